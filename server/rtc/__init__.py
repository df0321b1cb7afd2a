"""WebRTC for calls: ICE configuration, the avatar's paced tracks, the server's peer, a loopback client."""

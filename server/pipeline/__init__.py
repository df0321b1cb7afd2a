"""One live call: the user's audio in, the avatar's voice and face out, turn by turn."""

"""Using Memoria from other devices at home: https with a certificate of its own for the LAN."""

"""Accounts: register, log in (bearer token or the web app's cookie), log out, who am I."""

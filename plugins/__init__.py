"""Built-in Memoria plugins, one package each."""

"""HTTP controllers of the domain: parse, call a service, return a schema."""

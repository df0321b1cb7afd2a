"""The HTTP boundary's hardening: security headers, strict request bodies, slow-client limits, and
error responses that never show internals."""

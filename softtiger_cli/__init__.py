"""softtiger: clinical notes to validated FHIR bundles with a local GGUF model."""

__version__ = "0.1.0"

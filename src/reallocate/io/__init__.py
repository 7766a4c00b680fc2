"""Reading scenarios and writing plans, one module per format."""

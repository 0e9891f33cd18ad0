"""The API's serializers, one module per area."""

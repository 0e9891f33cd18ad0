"""The REST adapter (/api/v1/): input serializers parse, selectors fetch, services write, output
serializers render. Errors are shaped once, by config.api_errors.exception_handler."""

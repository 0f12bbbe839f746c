"""archcompiler test suite."""

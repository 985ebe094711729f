//! The `/chromium` CDP WebSocket proxy.

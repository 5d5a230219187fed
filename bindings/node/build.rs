//! Sets up linking for the Node-API module.

fn main() {
    napi_build::setup();
}

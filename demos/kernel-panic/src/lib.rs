//! Test-only init: asks the kernel to panic through the test-only
//! `KernelPanicTrigger` capability its manifest grants. It should never get
//! a completion back: the kernel halts and tears every Worker down.
#![cfg(target_arch = "wasm32")]

use capos_rt::{CapRef, Console, Env, Error};
use capos_schema::debug_capnp::kernel_panic_trigger;
use capos_schema::interfaces::kernel_panic_trigger as iface;

capos_rt::entry!(main);

fn main(env: &Env) -> Result<(), Error> {
    let console = Console::open(env, "console")?;
    let trigger = CapRef::find(&env.capset, "panic", iface::INTERFACE_ID)?;
    console.write_line("kernel-panic demo: asking the kernel to panic")?;
    let mut message = capnp::message::Builder::new_default();
    message
        .init_root::<kernel_panic_trigger::trigger_params::Builder>()
        .set_reason("requested by the kernel-panic test demo");
    capos_rt::call(
        trigger,
        iface::method::TRIGGER,
        &capnp::serialize::write_message_to_words(&message),
    )?;
    Err(Error::Other("the kernel survived a panic request".into()))
}

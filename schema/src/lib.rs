//! capOS interfaces, generated from `schema/*.capnp`.
//!
//! `*_capnp` modules are capnpc's output (message builders and readers);
//! [`interfaces`] has each interface's id and method ordinals, read from the
//! same compiler run. Nothing here is written by hand.

macro_rules! generated {
    ($($module:ident),* $(,)?) => {$(
        #[allow(clippy::all, clippy::pedantic, unused_qualifications)]
        pub mod $module {
            include!(concat!(env!("OUT_DIR"), "/", stringify!($module), ".rs"));
        }
    )*};
}

generated!(
    bench_capnp,
    cap_capnp,
    clipboard_capnp,
    console_capnp,
    debug_capnp,
    display_capnp,
    fs_capnp,
    http_capnp,
    ipc_capnp,
    kv_capnp,
    manifest_capnp,
    net_capnp,
    process_capnp,
    random_capnp,
    store_capnp,
    timer_capnp,
);

pub mod wasi_manifest;

#[cfg(feature = "project")]
pub mod project;

/// The wire form of `capos_config::TransferMode` (the one Rust enum for it).
impl From<cap_capnp::TransferMode> for capos_config::manifest::TransferMode {
    fn from(mode: cap_capnp::TransferMode) -> Self {
        match mode {
            cap_capnp::TransferMode::Copy => Self::Copy,
            cap_capnp::TransferMode::Move => Self::Move,
        }
    }
}

impl From<capos_config::manifest::TransferMode> for cap_capnp::TransferMode {
    fn from(mode: capos_config::manifest::TransferMode) -> Self {
        match mode {
            capos_config::manifest::TransferMode::Copy => Self::Copy,
            capos_config::manifest::TransferMode::Move => Self::Move,
        }
    }
}

/// Typed clients, one per interface (program side), and what they are built on.
#[cfg(feature = "clients")]
pub mod clients {
    include!(concat!(env!("OUT_DIR"), "/clients.rs"));
}
#[cfg(feature = "clients")]
pub mod rpc;

/// Server traits and dispatch, one module per interface (kernel side).
#[cfg(feature = "servers")]
#[allow(clippy::all, clippy::pedantic)]
pub mod servers {
    include!(concat!(env!("OUT_DIR"), "/servers.rs"));
}

/// Interface ids and method ordinals.
pub mod interfaces {
    include!(concat!(env!("OUT_DIR"), "/interfaces.rs"));
}

#[cfg(test)]
mod tests {
    use super::interfaces;

    #[test]
    fn ids_come_from_the_schema() {
        assert_eq!(
            interfaces::console::INTERFACE_ID,
            <crate::console_capnp::console::Client as capnp::traits::HasTypeId>::TYPE_ID
        );
        assert_eq!(interfaces::console::method::WRITE, 0);
        assert_eq!(interfaces::kernel_panic_trigger::method::TRIGGER, 0);
        assert!(interfaces::ALL.iter().any(|(n, _)| *n == "Console"));
    }

    #[test]
    fn method_names_come_from_the_schema() {
        let console = interfaces::console::INTERFACE_ID;
        assert_eq!(
            interfaces::method_name(console, interfaces::console::method::WITH_PREFIX),
            Some(("Console", "withPrefix"))
        );
        assert_eq!(interfaces::method_name(console, 999), None);
        assert_eq!(interfaces::method_name(0x1234, 0), None);
        assert_eq!(interfaces::interface_name(console), Some("Console"));
    }
}

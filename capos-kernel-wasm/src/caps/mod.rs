//! Capabilities the kernel serves itself. Each implements the server trait
//! `schema/build.rs` generates for its interface (typed params in, typed
//! results out) and owns whatever state it needs; state shared by several
//! capabilities lives in a service that hears of exits, timers and halts
//! through `capos_lib::Service`. The kernel core knows none of them:
//! [`init_grants`] is the one place that turns a manifest's kernel services
//! into capabilities.

mod boot_package;
mod clipboard;
mod console;
mod display;
mod echo;
pub mod fs;
mod fs_page;
pub mod http;
mod ipc;
pub mod kv;
pub mod net;
mod panic_trigger;
pub mod process;
mod random;
mod timer;
pub mod volume;

pub use boot_package::BootPackage;
pub use clipboard::Clipboard;
pub use console::{Console, TerminalInput};
pub use display::{Display, Displays};
pub use echo::Echo;
pub use http::{Fetch, Http, HttpBody, HttpEndpoint};
pub use ipc::{Endpoint, EndpointFactory, Endpoints};
pub use kv::{Kv, KvStore, KvWriter};
pub use net::{Listener, Net};
pub use panic_trigger::KernelPanicTrigger;
pub use process::{ProcessHandle, ProcessSpawner, ProcessTable};
pub use random::RandomSource;
pub use timer::Timer;

use crate::host::Host;
use crate::kernel::{CapEntry, Grant, GrantedCap, Kernel, Transfer};
use crate::view::Stream;
use capos_config::manifest::{CapSource, KernelService, Manifest};
use capos_lib::{CapError, CapObject, Fault};
use capos_schema::cap_capnp;
use std::rc::Rc;

/// What the inspector shows of an object beyond its interface (see
/// `CapObject::designates` and `CapObject::describe`).
pub(crate) trait Inspect {
    fn designates(&self) -> Option<usize> {
        None
    }
    fn describe(&self) -> Option<String> {
        None
    }
}

/// Implements `CapObject` for a type that implements its interface's
/// generated server trait: `serve!(Echo, echo)`; `serve!(X, x, inspect)`
/// also forwards to the type's [`Inspect`], `serve!(X, x, as_any)` lets
/// callers downcast it.
macro_rules! serve {
    ($ty:ty, $iface:ident, inspect) => {
        serve!(@impl $ty, $iface,
            fn designates(&self) -> Option<usize> {
                crate::caps::Inspect::designates(self)
            }
            fn describe(&self) -> Option<String> {
                crate::caps::Inspect::describe(self)
            }
        );
    };
    ($ty:ty, $iface:ident, as_any, inspect) => {
        serve!(@impl $ty, $iface,
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }
            fn describe(&self) -> Option<String> {
                crate::caps::Inspect::describe(self)
            }
        );
    };
    ($ty:ty, $iface:ident, as_any) => {
        serve!(@impl $ty, $iface,
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }
        );
    };
    ($ty:ty, $iface:ident) => {
        serve!(@impl $ty, $iface,);
    };
    (@impl $ty:ty, $iface:ident, $($extra:item)*) => {
        impl<H: crate::host::Host> capos_lib::CapObject<crate::kernel::Kernel<H>> for $ty {
            fn interface_id(&self) -> u64 {
                capos_schema::interfaces::$iface::INTERFACE_ID
            }
            fn interface_name(&self) -> &'static str {
                capos_schema::interfaces::$iface::NAME
            }
            fn call(
                &self,
                kernel: &mut crate::kernel::Kernel<H>,
                call: &capos_lib::CallContext,
                params: capnp::any_pointer::Reader<'_>,
                results: capnp::any_pointer::Builder<'_>,
            ) -> capos_lib::Reply {
                capos_schema::servers::$iface::dispatch(self, kernel, call, params, results)
            }
            $($extra)*
        }
    };
}
pub(crate) use serve;

/// The services one boot shares: created with init's grants, registered
/// with the kernel for their hooks.
struct Services {
    input: Rc<TerminalInput>,
    endpoints: Rc<Endpoints>,
    processes: Rc<ProcessTable>,
    fs: Rc<fs::FileSystems>,
    http: Rc<Http>,
    kv: Rc<Kv>,
    displays: Rc<Displays>,
}

/// Builds init's capabilities from its manifest: the kernel's `Bundle`.
pub fn init_grants<H: Host>(
    kernel: &mut Kernel<H>,
    manifest: &Rc<Manifest>,
) -> Result<Vec<Grant<H>>, String> {
    let images = kernel.take_store_images();
    let fs = Rc::new(fs::FileSystems::mount(
        kernel,
        &manifest.mounts,
        &manifest.host_files,
        images,
    )?);
    kernel.set_page_files(fs.clone());
    let services = Services {
        input: Rc::new(TerminalInput::new(manifest.terminal.input)),
        endpoints: Rc::new(Endpoints::default()),
        processes: Rc::new(ProcessTable::default()),
        fs,
        http: Rc::new(Http::default()),
        // A manifest's keys are its own: its name is the namespace.
        kv: Rc::new(Kv::new(&manifest.name)),
        displays: Rc::new(Displays::default()),
    };
    kernel.register_service(services.input.clone());
    kernel.register_service(services.endpoints.clone());
    kernel.register_service(services.processes.clone());
    kernel.register_service(services.fs.clone());
    kernel.register_service(services.http.clone());
    kernel.register_service(services.displays.clone());
    let mut grants = Vec::new();
    // Made with the first port granted: a boot that listens nowhere has none.
    let mut network: Option<Rc<Net>> = None;
    for grant in &manifest.init.caps {
        let object: Rc<dyn CapObject<Kernel<H>>> = match &grant.source {
            CapSource::Kernel(service) => kernel_service(*service, &services, manifest),
            CapSource::Mount(index) => Rc::new(services.fs.root(*index as usize)),
            CapSource::Listen(port) => {
                let net = match &network {
                    Some(net) => net.clone(),
                    None => {
                        let net = Net::new();
                        kernel.register_service(net.clone());
                        kernel.set_network(net.clone());
                        network = Some(net.clone());
                        net
                    }
                };
                Rc::new(net.bind(*port)?)
            }
            CapSource::FromParent { .. } => {
                return Err(format!(
                    "init's capability {:?} must come from the kernel",
                    grant.name
                ));
            }
        };
        grants.push((grant.name.clone(), CapEntry { object, badge: 0 }));
    }
    if let Some(net) = network {
        kernel.emit(crate::view::UiEvent::Listening { ports: net.ports() });
    }
    Ok(grants)
}

/// A manifest's kernel service as a capability: one line per service.
fn kernel_service<H: Host>(
    service: KernelService,
    services: &Services,
    manifest: &Rc<Manifest>,
) -> Rc<dyn CapObject<Kernel<H>>> {
    match service {
        KernelService::Console => Rc::new(Console::new(
            Stream::Stdout,
            manifest.terminal.stdout,
            services.input.clone(),
        )),
        KernelService::Stderr => Rc::new(Console::new(
            Stream::Stderr,
            manifest.terminal.stderr,
            services.input.clone(),
        )),
        KernelService::Random => Rc::new(RandomSource),
        KernelService::KernelPanicTrigger => Rc::new(KernelPanicTrigger),
        KernelService::ProcessSpawner => Rc::new(ProcessSpawner::new(
            manifest.clone(),
            services.processes.clone(),
        )),
        KernelService::BootPackage => Rc::new(BootPackage::new(manifest.clone())),
        KernelService::EndpointFactory => Rc::new(EndpointFactory::new(services.endpoints.clone())),
        KernelService::Timer => Rc::new(Timer),
        KernelService::Echo => Rc::new(Echo),
        KernelService::Fetch => Rc::new(Fetch::new(services.http.clone())),
        KernelService::KvStore => Rc::new(KvStore::new(services.kv.clone())),
        KernelService::Clipboard => Rc::new(Clipboard::default()),
        KernelService::Display => Rc::new(Display::new(services.displays.clone())),
    }
}

pub(crate) fn set_cap_ref(mut builder: cap_capnp::cap_ref::Builder<'_>, cap: GrantedCap) {
    builder.set_cap_id(cap.cap_id);
    builder.set_interface_id(cap.interface_id);
}

pub(crate) fn set_cap_refs(
    mut list: capnp::struct_list::Builder<'_, cap_capnp::cap_ref::Owned>,
    caps: &[GrantedCap],
) {
    for (i, cap) in caps.iter().enumerate() {
        set_cap_ref(list.reborrow().get(i as u32), *cap);
    }
}

/// Most capabilities one message may carry.
pub const MAX_CAPS_PER_MESSAGE: u32 = 16;

/// Reads one `CapTransfer`.
pub(crate) fn read_transfer(t: cap_capnp::cap_transfer::Reader<'_>) -> Result<Transfer, Fault> {
    Ok(Transfer {
        cap_id: t.get_cap_id(),
        mode: t.get_mode().map_err(Fault::bad_params)?.into(),
    })
}

/// Reads a list of `CapTransfer`s.
pub(crate) fn read_transfers(
    list: capnp::struct_list::Reader<'_, cap_capnp::cap_transfer::Owned>,
) -> Result<Vec<Transfer>, Fault> {
    if list.len() > MAX_CAPS_PER_MESSAGE {
        return Err(Fault::new(
            CapError::TooLarge,
            format!(
                "{} capabilities in one message (at most {MAX_CAPS_PER_MESSAGE})",
                list.len()
            ),
        ));
    }
    list.iter().map(read_transfer).collect()
}

/// A Text field as a String; invalid UTF-8 is BadParams.
pub(crate) fn text(field: capnp::Result<capnp::text::Reader<'_>>) -> Result<String, Fault> {
    field?
        .to_string()
        .map_err(|_| Fault::bad_params("text is not valid UTF-8"))
}

/// Appends `data` to `buf` unless that makes it longer than `limit`
/// (`TooLarge`, saying what is limited, and nothing appended); returns the
/// new length. For bodies and values written in parts.
pub(crate) fn append_within(
    buf: &mut Vec<u8>,
    data: &[u8],
    limit: usize,
    what: &str,
) -> Result<u64, Fault> {
    if buf.len().saturating_add(data.len()) > limit {
        return Err(Fault::new(
            CapError::TooLarge,
            format!(
                "{what} may be at most {limit} bytes ({} so far, {} more asked for)",
                buf.len(),
                data.len()
            ),
        ));
    }
    buf.extend_from_slice(data);
    Ok(buf.len() as u64)
}

/// A results message builder for a parked call's completion, sized for
/// ring-slot messages (capnp's default first segment is 8 KiB).
pub(crate) fn results_builder() -> capnp::message::Builder<capnp::message::HeapAllocator> {
    capnp::message::Builder::new(capnp::message::HeapAllocator::new().first_segment_words(32))
}

/// A finished results message, as a parked call's completion.
pub(crate) fn encode(
    message: &capnp::message::Builder<capnp::message::HeapAllocator>,
) -> capos_lib::Completion {
    capos_lib::Completion::Done(capnp::serialize::write_message_to_words(message))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_write_past_the_limit_is_refused_and_appends_nothing() {
        let mut buf = vec![1; 8];
        assert_eq!(
            super::append_within(&mut buf, &[2; 2], 10, "a body"),
            Ok(10)
        );
        let fault = super::append_within(&mut buf, &[3], 10, "a body").unwrap_err();
        assert_eq!(fault.error, capos_lib::CapError::TooLarge);
        assert!(
            fault
                .message
                .contains("a body may be at most 10 bytes (10 so far, 1 more")
        );
        assert_eq!(buf.len(), 10);
    }
}

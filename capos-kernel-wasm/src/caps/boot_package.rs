//! BootPackage: the manifest's binaries and the children init should spawn.

use super::{
    bad_params, encode, fail, outcome, read_params, schema_transfer_mode, text, unknown_method,
};
use crate::host::Host;
use crate::kernel::Kernel;
use capos_config::manifest::CapSource;
use capos_config::ring::SLOT_DATA_SIZE;
use capos_lib::{CallContext, CapError, CapObject, Completion};
use capos_schema::interfaces::boot_package as iface;
use capos_schema::process_capnp::boot_package;

/// Bytes of blob one `fetch` returns at most (a ring slot less framing).
pub const FETCH_CHUNK: u32 = SLOT_DATA_SIZE - 128;

#[derive(Debug, Default)]
pub struct BootPackage;

impl BootPackage {
    fn serve<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        let package = kernel
            .package()
            .ok_or_else(|| fail(CapError::Internal, "no boot package"))?;
        let mut results = super::results_builder();
        match call.method {
            iface::method::LIST => {
                let root = results.init_root::<boot_package::list_results::Builder>();
                let mut list = root.init_blobs(package.blobs.len() as u32);
                for (i, blob) in package.blobs.iter().enumerate() {
                    let mut info = list.reborrow().get(i as u32);
                    info.set_name(&blob.name);
                    info.set_size(blob.data.len() as u64);
                }
            }
            iface::method::FETCH => {
                let message = read_params(call.params)?;
                let params = message
                    .get_root::<boot_package::fetch_params::Reader>()
                    .map_err(bad_params)?;
                let name = text(params.get_name())?;
                let blob = package
                    .blob(&name)
                    .ok_or_else(|| fail(CapError::BadParams, format!("no blob {name:?}")))?;
                let start = usize::try_from(params.get_offset())
                    .unwrap_or(usize::MAX)
                    .min(blob.data.len());
                let len = params.get_length().min(FETCH_CHUNK) as usize;
                let end = start.saturating_add(len).min(blob.data.len());
                let mut root = results.init_root::<boot_package::fetch_results::Builder>();
                root.set_data(&blob.data[start..end]);
                root.set_total(blob.data.len() as u64);
            }
            iface::method::CHILDREN => {
                let root = results.init_root::<boot_package::children_results::Builder>();
                let mut specs = root.init_specs(package.children.len() as u32);
                for (i, child) in package.children.iter().enumerate() {
                    let mut spec = specs.reborrow().get(i as u32);
                    spec.set_binary(&child.binary);
                    let mut argv = spec.reborrow().init_argv(child.argv.len() as u32);
                    for (j, arg) in child.argv.iter().enumerate() {
                        argv.set(j as u32, arg);
                    }
                    let mut caps = spec.init_caps(child.caps.len() as u32);
                    for (j, grant) in child.caps.iter().enumerate() {
                        let mut g = caps.reborrow().get(j as u32);
                        g.set_name(&grant.name);
                        // Validated at boot: children only have fromParent grants.
                        if let CapSource::FromParent { name, mode } = &grant.source {
                            let mut parent = g.init_source().init_from_parent();
                            parent.set_name(name);
                            parent.set_mode(schema_transfer_mode(*mode));
                        }
                    }
                }
            }
            m => return Err(unknown_method(iface::NAME, m)),
        }
        Ok(encode(&results))
    }
}

impl<H: Host> CapObject<Kernel<H>> for BootPackage {
    fn interface_id(&self) -> u64 {
        iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        outcome(self.serve(kernel, call))
    }
}

//! BootPackage: the manifest's binaries and the children init should spawn.

use super::{serve, text};
use crate::host::Host;
use crate::kernel::Kernel;
use capos_config::manifest::{Binary, CapSource, Manifest};
use capos_config::ring::SLOT_DATA_SIZE;
use capos_lib::{CallContext, CapError, Fault, Reply, Served};
use capos_schema::process_capnp::boot_package;
use capos_schema::servers::boot_package::Server;
use std::rc::Rc;

/// Bytes of blob one `fetch` returns at most (a ring slot less framing).
pub const FETCH_CHUNK: u32 = SLOT_DATA_SIZE - 128;

pub struct BootPackage {
    package: Rc<Manifest>,
}

impl BootPackage {
    pub fn new(package: Rc<Manifest>) -> Self {
        Self { package }
    }
}

serve!(BootPackage, boot_package);

impl<H: Host> Server<Kernel<H>> for BootPackage {
    fn list(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        _params: boot_package::list_params::Reader<'_>,
        results: boot_package::list_results::Builder<'_>,
    ) -> Reply {
        let mut list = results.init_blobs(self.package.blobs.len() as u32);
        for (i, blob) in self.package.blobs.iter().enumerate() {
            let mut info = list.reborrow().get(i as u32);
            info.set_name(&blob.name);
            match &blob.binary {
                Binary::Module(bytes) => info.set_size(bytes.len() as u64),
                Binary::Runtime(runtime) => info.set_runtime(&runtime.name),
            }
        }
        Ok(Served::Done)
    }

    fn fetch(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: boot_package::fetch_params::Reader<'_>,
        mut results: boot_package::fetch_results::Builder<'_>,
    ) -> Reply {
        let name = text(params.get_name())?;
        let blob = self
            .package
            .blob(&name)
            .ok_or_else(|| Fault::new(CapError::BadParams, format!("no blob {name:?}")))?;
        let data = match &blob.binary {
            Binary::Module(bytes) => bytes,
            Binary::Runtime(runtime) => {
                return Err(Fault::new(
                    CapError::BadParams,
                    format!(
                        "blob {name:?} is the runtime {:?}: the kernel loads it when a process is spawned from it, and it has no bytes here",
                        runtime.name
                    ),
                ));
            }
        };
        let start = usize::try_from(params.get_offset())
            .unwrap_or(usize::MAX)
            .min(data.len());
        // A chunk at most: the caller reads a large blob in pieces, and
        // `total` tells it how many.
        let len = params.get_length().min(FETCH_CHUNK) as usize;
        let end = start.saturating_add(len).min(data.len());
        results.set_data(&data[start..end]);
        results.set_total(data.len() as u64);
        Ok(Served::Done)
    }

    fn children(
        &self,
        _kernel: &mut Kernel<H>,
        _call: &CallContext,
        params: boot_package::children_params::Reader<'_>,
        mut results: boot_package::children_results::Builder<'_>,
    ) -> Reply {
        let all = &self.package.children;
        let start = (params.get_start() as usize).min(all.len());
        // As many as surely fit a ring slot, and always one: a spec too
        // large for a slot alone is then refused as TooLarge, not cut.
        let mut budget = CHILDREN_PAGE_BYTES;
        let mut end = start;
        while end < all.len() {
            let size = spec_size_bound(&all[end]);
            if end > start && size > budget {
                break;
            }
            budget = budget.saturating_sub(size);
            end += 1;
        }
        results.set_total(all.len() as u32);
        let children = &all[start..end];
        let mut specs = results.init_specs(children.len() as u32);
        for (i, child) in children.iter().enumerate() {
            let mut spec = specs.reborrow().get(i as u32);
            spec.set_binary(&child.binary);
            spec.set_memory_limit_mi_b(child.memory_limit_mib);
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
                    parent.set_mode((*mode).into());
                }
            }
        }
        Ok(Served::Done)
    }
}

/// Room for child specs in one `children` reply: a ring slot less the
/// results' own framing.
const CHILDREN_PAGE_BYTES: usize = capos_config::ring::SLOT_DATA_SIZE as usize - 64;

/// At least the bytes `spec` takes in a results message: each struct's
/// words and pointers, each text rounded up to words, generously.
fn spec_size_bound(spec: &capos_config::manifest::ProcessSpec) -> usize {
    let text = |t: &str| (t.len() + 1).div_ceil(8) * 8;
    let mut size = 64 + text(&spec.binary);
    size += spec.argv.iter().map(|a| 8 + text(a)).sum::<usize>();
    for grant in &spec.caps {
        size += 64 + text(&grant.name);
        if let CapSource::FromParent { name, .. } = &grant.source {
            size += 32 + text(name);
        }
    }
    size
}

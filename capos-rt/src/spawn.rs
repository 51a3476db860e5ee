//! `ProcessSpawner`, `ProcessHandle` and `BootPackage` (schema/process.capnp)
//! over the generated clients.

use crate::message::{self, cap_ref, set_transfer};
use crate::{CapRef, Error, RingTransport, TransferMode};
use capos_schema::clients;
use capos_schema::manifest_capnp::{cap_grant, process_spec};

/// A capability handed to a new process, under the name it will find it by.
#[derive(Clone, Debug)]
pub struct Grant {
    pub name: String,
    pub cap: CapRef,
    pub mode: TransferMode,
}

/// A child the manifest asks init to spawn; its grants name init's
/// capabilities (`parent`), which init resolves to ids itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildSpec {
    pub binary: String,
    pub argv: Vec<String>,
    /// (name in the child, name in the parent, transfer).
    pub grants: Vec<(String, String, TransferMode)>,
    /// Its memory limit in MiB (0: the default).
    pub memory_limit_mib: u32,
}

crate::capability!(ProcessSpawner, process_spawner);

/// A spawned process.
#[derive(Clone, Copy, Debug)]
pub struct ProcessHandle {
    client: clients::ProcessHandle<RingTransport>,
    pub pid: u32,
}

crate::capability!(BootPackage, boot_package);

impl ProcessSpawner {
    /// Starts `binary` from the BootPackage holding exactly `grants`.
    pub fn spawn(
        &self,
        binary: &str,
        argv: &[&str],
        grants: &[Grant],
    ) -> Result<ProcessHandle, Error> {
        self.spawn_with_memory_limit(binary, argv, grants, 0)
    }

    /// Like `spawn`, with at most `memory_limit_mib` MiB of linear memory
    /// (0: the default).
    pub fn spawn_with_memory_limit(
        &self,
        binary: &str,
        argv: &[&str],
        grants: &[Grant],
        memory_limit_mib: u32,
    ) -> Result<ProcessHandle, Error> {
        let mut request = self.client.spawn_request();
        let mut params = request.get();
        params.set_binary(binary);
        params.set_memory_limit_mi_b(memory_limit_mib);
        let mut list = params.reborrow().init_argv(argv.len() as u32);
        for (i, a) in argv.iter().enumerate() {
            list.set(i as u32, *a);
        }
        let mut list = params.init_grants(grants.len() as u32);
        for (i, g) in grants.iter().enumerate() {
            let mut grant = list.reborrow().get(i as u32);
            grant.set_name(&g.name);
            set_transfer(grant.init_cap(), g.cap, g.mode);
        }
        let response = request.send()?;
        let results = response.get()?;
        Ok(ProcessHandle {
            client: cap_ref(results.get_handle()?).client()?,
            pid: results.get_pid(),
        })
    }

    /// Spawns a manifest child, resolving its grants' parent names in `names`.
    pub fn spawn_child(&self, spec: &ChildSpec, names: &Names) -> Result<ProcessHandle, Error> {
        self.spawn_child_with_args(spec, names, &[])
    }

    /// Like `spawn_child`, with `extra` appended to the child's argv.
    pub fn spawn_child_with_args(
        &self,
        spec: &ChildSpec,
        names: &Names,
        extra: &[&str],
    ) -> Result<ProcessHandle, Error> {
        let mut grants = Vec::new();
        for (name, parent, mode) in &spec.grants {
            let cap = names
                .get(parent)
                .ok_or_else(|| Error::MissingCap(parent.clone()))?;
            grants.push(Grant {
                name: name.clone(),
                cap,
                mode: *mode,
            });
        }
        let mut argv: Vec<&str> = spec.argv.iter().map(String::as_str).collect();
        argv.extend_from_slice(extra);
        self.spawn_with_memory_limit(&spec.binary, &argv, &grants, spec.memory_limit_mib)
    }
}

/// Names for capabilities, as init resolves a child's `fromParent` grants:
/// its CapSet's names, plus capabilities it made at run time.
#[derive(Clone, Debug, Default)]
pub struct Names {
    entries: Vec<(String, CapRef)>,
}

impl Names {
    pub fn from_capset(capset: &crate::CapSet) -> Self {
        Self {
            entries: capset
                .entries()
                .iter()
                .map(|e| {
                    (
                        e.name.clone(),
                        CapRef {
                            cap_id: e.cap_id,
                            interface_id: e.interface_id,
                        },
                    )
                })
                .collect(),
        }
    }

    /// Names `cap` (replacing an earlier capability of that name).
    pub fn insert(&mut self, name: &str, cap: CapRef) {
        self.entries.retain(|(n, _)| n != name);
        self.entries.push((name.to_string(), cap));
    }

    pub fn get(&self, name: &str) -> Option<CapRef> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| *c)
    }
}

impl ProcessHandle {
    pub fn cap(&self) -> CapRef {
        CapRef::of(&self.client)
    }

    /// Blocks until the process ends; returns its exit code and why.
    pub fn wait(&self) -> Result<(i32, String), Error> {
        let response = self.client.wait_request().send()?;
        let results = response.get()?;
        Ok((results.get_code(), message::text(results.get_reason())?))
    }

    pub fn kill(&self) -> Result<(), Error> {
        self.client.kill_request().send().map(drop)
    }
}

impl BootPackage {
    /// The children the manifest asks init to spawn.
    /// Every child the manifest lists, asked for a page (a ring slot) at a time.
    pub fn children(&self) -> Result<Vec<ChildSpec>, Error> {
        let mut all = Vec::new();
        loop {
            let mut request = self.client.children_request();
            request.get().set_start(all.len() as u32);
            let response = request.send()?;
            let page = response.get()?;
            let specs = page.get_specs()?;
            if specs.is_empty() {
                break; // Past the end (or nothing to list).
            }
            for spec in specs.iter() {
                all.push(child_spec(spec)?);
            }
            if all.len() >= page.get_total() as usize {
                break;
            }
        }
        Ok(all)
    }
}

/// A manifest child as init spawns it: every grant must name one of init's
/// capabilities.
fn child_spec(spec: process_spec::Reader<'_>) -> Result<ChildSpec, Error> {
    let mut argv = Vec::new();
    for a in spec.get_argv()? {
        argv.push(message::text(a)?);
    }
    let mut grants = Vec::new();
    for g in spec.get_caps()? {
        let cap_grant::source::Which::FromParent(parent) = g.get_source().which()? else {
            return Err(Error::Other(
                "a child's grant names a kernel service".into(),
            ));
        };
        let parent = parent?;
        grants.push((
            message::text(g.get_name())?,
            message::text(parent.get_name())?,
            parent.get_mode()?.into(),
        ));
    }
    Ok(ChildSpec {
        binary: message::text(spec.get_binary())?,
        argv,
        grants,
        memory_limit_mib: spec.get_memory_limit_mi_b(),
    })
}

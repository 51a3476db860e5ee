//! Typed clients of `ProcessSpawner`, `ProcessHandle` and `BootPackage`
//! (schema/process.capnp).

use crate::message::{self, Transfer, cap_ref};
use crate::{CapRef, Error};
use capos_schema::interfaces::{
    boot_package as boot_iface, process_handle as handle_iface, process_spawner as spawner_iface,
};
use capos_schema::manifest_capnp::cap_grant;
use capos_schema::process_capnp::{boot_package, process_handle, process_spawner};

/// A capability handed to a new process, under the name it will find it by.
#[derive(Clone, Debug)]
pub struct Grant {
    pub name: String,
    pub cap: CapRef,
    pub mode: Transfer,
}

/// A child the manifest asks init to spawn; its grants name init's
/// capabilities (`parent`), which init resolves to ids itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildSpec {
    pub binary: String,
    pub argv: Vec<String>,
    /// (name in the child, name in the parent, transfer).
    pub grants: Vec<(String, String, Transfer)>,
}

#[derive(Clone, Copy, Debug)]
pub struct ProcessSpawner {
    cap: CapRef,
}

/// A spawned process.
#[derive(Clone, Copy, Debug)]
pub struct ProcessHandle {
    cap: CapRef,
    pub pid: u32,
}

#[derive(Clone, Copy, Debug)]
pub struct BootPackage {
    cap: CapRef,
}

impl ProcessSpawner {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        crate::expect_interface(cap, spawner_iface::INTERFACE_ID, spawner_iface::NAME)?;
        Ok(Self { cap })
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(
            &env.capset,
            name,
            spawner_iface::INTERFACE_ID,
        )?)
    }

    pub fn spawn_params(binary: &str, argv: &[&str], grants: &[Grant]) -> Vec<u8> {
        let mut m = message::builder();
        let mut p = m.init_root::<process_spawner::spawn_params::Builder>();
        p.set_binary(binary);
        let mut list = p.reborrow().init_argv(argv.len() as u32);
        for (i, a) in argv.iter().enumerate() {
            list.set(i as u32, *a);
        }
        let mut list = p.init_grants(grants.len() as u32);
        for (i, g) in grants.iter().enumerate() {
            let mut b = list.reborrow().get(i as u32);
            b.set_name(&g.name);
            let mut cap = b.init_cap();
            cap.set_cap_id(g.cap.cap_id);
            cap.set_mode(g.mode.schema());
        }
        message::bytes(&m)
    }

    /// Starts `binary` from the BootPackage holding exactly `grants`.
    pub fn spawn(
        &self,
        binary: &str,
        argv: &[&str],
        grants: &[Grant],
    ) -> Result<ProcessHandle, Error> {
        let out = crate::call(
            self.cap,
            spawner_iface::method::SPAWN,
            &Self::spawn_params(binary, argv, grants),
        )?;
        let r = message::read(&out)?;
        let res = r.get_root::<process_spawner::spawn_results::Reader>()?;
        Ok(ProcessHandle {
            cap: cap_ref(res.get_handle()?),
            pid: res.get_pid(),
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
        self.spawn(&spec.binary, &argv, &grants)
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
    /// Blocks until the process ends; returns its exit code and why.
    pub fn wait(&self) -> Result<(i32, String), Error> {
        let mut m = message::builder();
        m.init_root::<process_handle::wait_params::Builder>();
        let out = crate::call(self.cap, handle_iface::method::WAIT, &message::bytes(&m))?;
        let r = message::read(&out)?;
        let res = r.get_root::<process_handle::wait_results::Reader>()?;
        Ok((res.get_code(), message::text(res.get_reason())?))
    }

    pub fn kill(&self) -> Result<(), Error> {
        let mut m = message::builder();
        m.init_root::<process_handle::kill_params::Builder>();
        crate::call(self.cap, handle_iface::method::KILL, &message::bytes(&m)).map(drop)
    }
}

impl BootPackage {
    pub fn from_cap(cap: CapRef) -> Result<Self, Error> {
        crate::expect_interface(cap, boot_iface::INTERFACE_ID, boot_iface::NAME)?;
        Ok(Self { cap })
    }

    pub fn open(env: &crate::Env, name: &str) -> Result<Self, Error> {
        Self::from_cap(CapRef::find(&env.capset, name, boot_iface::INTERFACE_ID)?)
    }

    pub fn parse_children(data: &[u8]) -> Result<Vec<ChildSpec>, Error> {
        let r = message::read(data)?;
        let res = r.get_root::<boot_package::children_results::Reader>()?;
        let mut specs = Vec::new();
        for spec in res.get_specs()? {
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
                    Transfer::from_schema(parent.get_mode()?),
                ));
            }
            specs.push(ChildSpec {
                binary: message::text(spec.get_binary())?,
                argv,
                grants,
            });
        }
        Ok(specs)
    }

    /// The children the manifest asks init to spawn.
    pub fn children(&self) -> Result<Vec<ChildSpec>, Error> {
        let mut m = message::builder();
        m.init_root::<boot_package::children_params::Builder>();
        let out = crate::call(self.cap, boot_iface::method::CHILDREN, &message::bytes(&m))?;
        Self::parse_children(&out)
    }
}

//! ProcessSpawner and ProcessHandle, and the [`ProcessTable`] service that
//! hears when a spawned process ends and answers whoever waits for it.

use super::{encode, read_transfer, results_builder, serve, set_cap_ref, text};
use crate::host::Host;
use crate::kernel::{CapEntry, Kernel, Transfer};
use capos_config::capset::is_valid_cap_name;
use capos_config::manifest::{ARGV_MAX_BYTES, ARGV_MAX_ITEMS, Manifest, ProcessSpec, validate_env};
use capos_lib::{CallContext, CapError, Completion, Fault, Reply, Served, Service};
use capos_schema::process_capnp::{process_handle, process_spawner};
use capos_schema::servers::{process_handle as handle_server, process_spawner as spawner_server};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::{Rc, Weak};

/// How a process ended, and who is waiting to hear it.
#[derive(Debug, Default)]
pub struct ExitState {
    status: Option<(i32, String)>,
    /// (pid, user_data) of parked `ProcessHandle.wait` calls.
    waiters: Vec<(u32, u64)>,
}

/// The exit state of every process spawned through a ProcessSpawner.
#[derive(Debug, Default)]
pub struct ProcessTable {
    exits: RefCell<BTreeMap<u32, Weak<RefCell<ExitState>>>>,
}

fn wait_results(code: i32, reason: &str) -> Completion {
    let mut results = results_builder();
    let mut root = results.init_root::<process_handle::wait_results::Builder>();
    root.set_code(code);
    root.set_reason(reason);
    encode(&results)
}

impl<H: Host> Service<Kernel<H>> for ProcessTable {
    fn on_exit(&self, kernel: &mut Kernel<H>, pid: u32, code: i32, reason: &str) {
        let Some(exit) = self.exits.borrow_mut().remove(&pid) else {
            return;
        };
        let Some(exit) = exit.upgrade() else {
            return; // Nobody holds a handle to it any more.
        };
        let waiters = {
            let mut exit = exit.borrow_mut();
            exit.status = Some((code, reason.to_string()));
            std::mem::take(&mut exit.waiters)
        };
        for (waiter, user_data) in waiters {
            kernel.finish(waiter, user_data, wait_results(code, reason));
        }
    }
}

/// Starts processes from the BootPackage's binaries.
pub struct ProcessSpawner {
    package: Rc<Manifest>,
    table: Rc<ProcessTable>,
}

impl ProcessSpawner {
    pub fn new(package: Rc<Manifest>, table: Rc<ProcessTable>) -> Self {
        Self { package, table }
    }
}

serve!(ProcessSpawner, process_spawner);

impl<H: Host> spawner_server::Server<Kernel<H>> for ProcessSpawner {
    /// Every check (binary, argv, names, environment, capability ids, room
    /// for the handle) comes before anything moves; the granted
    /// capabilities leave the caller only once the child exists.
    fn spawn(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        params: process_spawner::spawn_params::Reader<'_>,
        mut results: process_spawner::spawn_results::Builder<'_>,
    ) -> Reply {
        let binary = text(params.get_binary())?;
        let Some(blob) = self.package.blob(&binary) else {
            let names: Vec<&str> = self.package.blobs.iter().map(|b| b.name.as_str()).collect();
            return Err(Fault::new(
                CapError::BadParams,
                format!(
                    "no binary {binary:?} in the BootPackage (it has: {})",
                    names.join(", ")
                ),
            ));
        };
        let mut argv = Vec::new();
        for arg in params.get_argv()? {
            argv.push(text(arg)?);
        }
        if argv.is_empty() {
            argv.push(binary.clone());
        }
        let argv_bytes: usize = argv.iter().map(|a| a.len() + 1).sum();
        if argv.len() > ARGV_MAX_ITEMS || argv_bytes > ARGV_MAX_BYTES {
            return Err(Fault::new(CapError::TooLarge, "argv too large"));
        }
        let mut env = Vec::new();
        for var in params.get_env()? {
            env.push(text(var)?);
        }
        validate_env(&env).map_err(|e| Fault::new(CapError::BadParams, e))?;
        let memory_limit_mib = params.get_memory_limit_mi_b();
        capos_config::manifest::memory_limit_mib(memory_limit_mib)
            .map_err(|e| Fault::new(CapError::BadParams, e))?;
        let grants = params.get_grants()?;
        if grants.len() > super::MAX_CAPS_PER_MESSAGE {
            return Err(Fault::new(CapError::TooLarge, "too many grants"));
        }
        let mut names = Vec::new();
        let mut transfers: Vec<Transfer> = Vec::new();
        for grant in grants {
            let name = text(grant.get_name())?;
            if !is_valid_cap_name(&name) || names.contains(&name) {
                return Err(Fault::new(
                    CapError::BadParams,
                    format!("grant name {name:?} is invalid or repeated"),
                ));
            }
            names.push(name);
            transfers.push(read_transfer(grant.get_cap()?)?);
        }
        let entries = kernel.peek_caps(call.caller, &transfers)?;
        kernel.check_room(call.caller, 1)?;
        let spec = ProcessSpec {
            binary,
            argv,
            caps: Vec::new(),
            env,
            trap_unknown_imports: false,
            memory_limit_mib,
        };
        let child = kernel
            .spawn(
                &spec,
                &blob.binary,
                names.into_iter().zip(entries).collect(),
            )
            .map_err(|e| Fault::new(CapError::Internal, e))?;
        // The child holds its copies now: the moved ones leave the caller.
        kernel.drop_moved(call.caller, &transfers);
        let exit = Rc::new(RefCell::new(ExitState::default()));
        self.table
            .exits
            .borrow_mut()
            .insert(child, Rc::downgrade(&exit));
        let handle = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(ProcessHandle { pid: child, exit }),
                badge: 0,
            },
        )?;
        results.set_pid(child);
        set_cap_ref(results.init_handle(), handle);
        Ok(Served::Done)
    }
}

/// A spawned process, as its parent holds it.
#[derive(Debug)]
pub struct ProcessHandle {
    pid: u32,
    exit: Rc<RefCell<ExitState>>,
}

serve!(ProcessHandle, process_handle);

impl<H: Host> handle_server::Server<Kernel<H>> for ProcessHandle {
    fn wait(
        &self,
        _kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: process_handle::wait_params::Reader<'_>,
        mut results: process_handle::wait_results::Builder<'_>,
    ) -> Reply {
        let mut exit = self.exit.borrow_mut();
        match &exit.status {
            Some((code, reason)) => {
                results.set_code(*code);
                results.set_reason(reason);
                Ok(Served::Done)
            }
            None => {
                exit.waiters.push((call.caller, call.user_data));
                Ok(Served::Pending)
            }
        }
    }

    fn kill(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext,
        _params: process_handle::kill_params::Reader<'_>,
        _results: process_handle::kill_results::Builder<'_>,
    ) -> Reply {
        kernel.kill(self.pid, call.caller);
        Ok(Served::Done)
    }
}

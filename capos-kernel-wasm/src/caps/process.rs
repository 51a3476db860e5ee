//! ProcessSpawner and ProcessHandle.

use super::{
    bad_params, done, encode, fail, outcome, read_params, set_cap_ref, text, transfer_mode,
    unknown_method,
};
use crate::host::Host;
use crate::kernel::{CapEntry, ExitState, Kernel};
use capos_config::capset::is_valid_cap_name;
use capos_config::manifest::{ARGV_MAX_BYTES, ARGV_MAX_ITEMS, ProcessSpec, validate_env};
use capos_lib::{CallContext, CapError, CapObject, Completion};
use capos_schema::interfaces::{process_handle as handle_iface, process_spawner as spawner_iface};
use capos_schema::process_capnp::{process_handle, process_spawner};
use std::cell::RefCell;
use std::rc::Rc;

/// Starts processes from the BootPackage's binaries.
#[derive(Debug, Default)]
pub struct ProcessSpawner;

impl ProcessSpawner {
    fn spawn<H: Host>(
        &self,
        kernel: &mut Kernel<H>,
        call: &CallContext<'_>,
    ) -> Result<Completion, Completion> {
        let message = read_params(call.params)?;
        let params = message
            .get_root::<process_spawner::spawn_params::Reader>()
            .map_err(bad_params)?;
        let binary = text(params.get_binary())?;
        let package = kernel
            .package()
            .ok_or_else(|| fail(CapError::Internal, "no boot package"))?;
        let Some(blob) = package.blob(&binary) else {
            let names: Vec<&str> = package.blobs.iter().map(|b| b.name.as_str()).collect();
            return Err(fail(
                CapError::BadParams,
                format!(
                    "no binary {binary:?} in the BootPackage (it has: {})",
                    names.join(", ")
                ),
            ));
        };
        let mut argv = Vec::new();
        for arg in params.get_argv().map_err(bad_params)? {
            argv.push(text(arg)?);
        }
        if argv.is_empty() {
            argv.push(binary.clone());
        }
        let argv_bytes: usize = argv.iter().map(|a| a.len() + 1).sum();
        if argv.len() > ARGV_MAX_ITEMS || argv_bytes > ARGV_MAX_BYTES {
            return Err(fail(CapError::TooLarge, "argv too large"));
        }
        let grants = params.get_grants().map_err(bad_params)?;
        if grants.len() > super::MAX_CAPS_PER_MESSAGE {
            return Err(fail(CapError::TooLarge, "too many grants"));
        }
        let mut names = Vec::new();
        let mut transfers = Vec::new();
        for grant in grants {
            let name = text(grant.get_name())?;
            if !is_valid_cap_name(&name) || names.contains(&name) {
                return Err(fail(
                    CapError::BadParams,
                    format!("grant name {name:?} is invalid or repeated"),
                ));
            }
            let cap = grant.get_cap().map_err(bad_params)?;
            let mode = transfer_mode(cap.get_mode().map_err(bad_params)?);
            names.push(name);
            transfers.push((cap.get_cap_id(), mode));
        }
        // Every id is checked before anything moves: a bad grant spawns nothing.
        let entries = kernel.take_caps(call.caller, &transfers)?;
        let mut env = Vec::new();
        for var in params.get_env().map_err(bad_params)? {
            env.push(text(var)?);
        }
        validate_env(&env).map_err(|e| fail(CapError::BadParams, e))?;
        let spec = ProcessSpec {
            binary,
            argv,
            caps: Vec::new(),
            env,
        };
        let child = kernel
            .spawn(&spec, &blob.data, names.into_iter().zip(entries).collect())
            .map_err(|e| fail(CapError::Internal, e))?;
        let exit = kernel
            .exit_state(child)
            .ok_or_else(|| fail(CapError::Internal, "child vanished at spawn"))?;
        let handle = kernel.insert_cap(
            call.caller,
            CapEntry {
                object: Rc::new(ProcessHandle { pid: child, exit }),
                badge: 0,
            },
        )?;
        let mut results = super::results_builder();
        let mut root = results.init_root::<process_spawner::spawn_results::Builder>();
        root.set_pid(child);
        set_cap_ref(root.init_handle(), handle);
        Ok(encode(&results))
    }
}

impl<H: Host> CapObject<Kernel<H>> for ProcessSpawner {
    fn interface_id(&self) -> u64 {
        spawner_iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        spawner_iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        match call.method {
            spawner_iface::method::SPAWN => outcome(self.spawn(kernel, call)),
            m => unknown_method(spawner_iface::NAME, m),
        }
    }
}

/// A spawned process, as its parent holds it.
#[derive(Debug)]
pub struct ProcessHandle {
    pid: u32,
    exit: Rc<RefCell<ExitState>>,
}

/// The results of `ProcessHandle.wait`.
pub fn wait_results(code: i32, reason: &str) -> Completion {
    let mut results = super::results_builder();
    let mut root = results.init_root::<process_handle::wait_results::Builder>();
    root.set_code(code);
    root.set_reason(reason);
    encode(&results)
}

impl<H: Host> CapObject<Kernel<H>> for ProcessHandle {
    fn interface_id(&self) -> u64 {
        handle_iface::INTERFACE_ID
    }

    fn interface_name(&self) -> &'static str {
        handle_iface::NAME
    }

    fn call(&self, kernel: &mut Kernel<H>, call: &CallContext<'_>) -> Completion {
        match call.method {
            handle_iface::method::WAIT => {
                let mut exit = self.exit.borrow_mut();
                match &exit.status {
                    Some((code, reason)) => wait_results(*code, reason),
                    None => {
                        exit.waiters.push((call.caller, call.user_data));
                        Completion::Pending
                    }
                }
            }
            handle_iface::method::KILL => {
                kernel.kill(self.pid, call.caller);
                done()
            }
            m => unknown_method(handle_iface::NAME, m),
        }
    }
}

//! The core's own contracts: typed SQE decoding, one completion path, and
//! results that never get cut.

use super::{Proc, TestHost, manifest};
use crate::host::Host;
use crate::kernel::{CapEntry, Grant, Kernel};
use capos_config::manifest::Manifest;
use capos_config::ring::{CapError, OP_CALL, OP_NOP, SLOT_DATA_SIZE, Sqe};
use capos_lib::{CallContext, CapObject, Completion, Reply, Served};
use std::rc::Rc;

const BULK_ID: u64 = 0xb01c;

/// A test capability: method 0 answers at once with `len` bytes of data,
/// method 1 parks (the test finishes it through `Kernel::finish`).
struct Bulk;

impl<H: Host> CapObject<Kernel<H>> for Bulk {
    fn interface_id(&self) -> u64 {
        BULK_ID
    }
    fn interface_name(&self) -> &'static str {
        "Bulk"
    }
    fn call(
        &self,
        _kernel: &mut Kernel<H>,
        call: &CallContext,
        params: capnp::any_pointer::Reader<'_>,
        results: capnp::any_pointer::Builder<'_>,
    ) -> Reply {
        match call.method {
            0 => {
                let len: capnp::data::Reader<'_> = params.get_as()?;
                let n = u32::from_le_bytes(len[..4].try_into().unwrap());
                results.initn_as::<capnp::data::Builder<'_>>(n).fill(7);
                Ok(Served::Done)
            }
            _ => Ok(Served::Pending),
        }
    }
}

fn bulk_bundle<H: Host>(_: &mut Kernel<H>, _: &Rc<Manifest>) -> Result<Vec<Grant<H>>, String> {
    Ok(vec![(
        "bulk".to_string(),
        CapEntry {
            object: Rc::new(Bulk),
            badge: 0,
        },
    )])
}

fn booted() -> (Kernel<TestHost>, Proc) {
    let mut kernel = Kernel::new(TestHost::default(), bulk_bundle);
    let pid = kernel.boot(&manifest(&[])).unwrap();
    let proc = Proc::attach(&kernel, pid);
    (kernel, proc)
}

fn len_params(n: u32) -> Vec<u8> {
    let mut m = capnp::message::Builder::new_default();
    m.set_root::<capnp::data::Owned>(&n.to_le_bytes()[..])
        .unwrap();
    capnp::serialize::write_message_to_words(&m)
}

#[test]
fn results_too_large_for_a_slot_are_refused_with_their_size_not_cut() {
    let (mut kernel, mut init) = booted();
    let (cap, _) = init.cap("bulk");
    let fits = init.call(cap, BULK_ID, 0, &len_params(1000));
    let too_big = init.call(cap, BULK_ID, 0, &len_params(SLOT_DATA_SIZE));
    kernel.poll();
    let done = init.raw_completions();
    assert_eq!(done[0].0.user_data, fits);
    assert_eq!(done[0].0.result, 0);
    assert!(done[0].1.len() > 1000, "the whole result arrived");
    assert_eq!(done[1].0.user_data, too_big);
    assert_eq!(done[1].0.result, CapError::TooLarge.code());
    let message = String::from_utf8(done[1].1.clone()).unwrap();
    assert!(
        message.contains("exceed the 2048-byte ring slot"),
        "{message}"
    );
}

#[test]
fn a_parked_call_finished_with_too_much_data_fails_instead_of_being_cut() {
    let (mut kernel, mut init) = booted();
    let (cap, _) = init.cap("bulk");
    let parked = init.call(cap, BULK_ID, 1, &[]);
    kernel.poll();
    assert!(init.raw_completions().is_empty(), "parked");
    let big = vec![1u8; SLOT_DATA_SIZE as usize + 1];
    kernel.finish(1, parked, Completion::Done(big));
    let done = init.raw_completions();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0.result, CapError::TooLarge.code());
    assert!(String::from_utf8_lossy(&done[0].1).contains("2049 bytes"));
    // Finished once: a second completion for it is not owed and not posted.
    let parked_again = init.call(cap, BULK_ID, 1, &[]);
    kernel.poll();
    kernel.finish(1, parked_again, Completion::Done(vec![0; 8]));
    assert_eq!(init.raw_completions().len(), 1);
}

#[test]
fn flags_and_fields_an_opcode_does_not_use_are_refused() {
    let (mut kernel, mut init) = booted();
    let (cap, _) = init.cap("bulk");
    let flagged = init.submit(
        Sqe {
            cap_id: cap,
            interface_id: BULK_ID,
            opcode: OP_CALL,
            flags: 1,
            ..Sqe::default()
        },
        &len_params(1),
    );
    let nop_with_cap = init.submit(
        Sqe {
            cap_id: cap,
            opcode: OP_NOP,
            ..Sqe::default()
        },
        &[],
    );
    let unknown = init.submit(
        Sqe {
            opcode: 7,
            ..Sqe::default()
        },
        &[],
    );
    let nop = init.submit(
        Sqe {
            opcode: OP_NOP,
            ..Sqe::default()
        },
        &[],
    );
    kernel.poll();
    let done = init.completions();
    let result = |ud: u64| done.iter().find(|c| c.0.user_data == ud).unwrap();
    assert_eq!(result(flagged).0.result, CapError::BadSqe.code());
    assert!(
        result(flagged).1.contains("flags 0x01"),
        "{}",
        result(flagged).1
    );
    assert_eq!(result(nop_with_cap).0.result, CapError::BadSqe.code());
    assert!(result(nop_with_cap).1.contains("cap_id must be zero"));
    assert_eq!(result(unknown).0.result, CapError::BadSqe.code());
    assert!(result(unknown).1.contains("unknown opcode 7"));
    assert_eq!(result(nop).0.result, 0);
}

#[test]
fn a_sleep_finishes_with_a_results_message_the_generated_client_can_read() {
    use capos_schema::interfaces::timer;
    use capos_schema::timer_capnp::timer as t;
    let mut kernel = Kernel::new(TestHost::default(), crate::caps::init_grants);
    let pid = kernel
        .boot(&manifest(&[(
            "timer",
            capos_schema::manifest_capnp::KernelService::Timer,
        )]))
        .unwrap();
    let mut init = Proc::attach(&kernel, pid);
    let (cap, iface) = init.cap("timer");
    let mut m = capnp::message::Builder::new_default();
    m.init_root::<t::sleep_params::Builder>().set_ns(1);
    let ud = init.call(
        cap,
        iface,
        timer::method::SLEEP,
        &capnp::serialize::write_message_to_words(&m),
    );
    kernel.poll();
    kernel.poll();
    let done = init.raw_completions();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0.user_data, ud);
    assert_eq!(done[0].0.result, 0);
    let message = capnp::serialize::read_message(&mut &done[0].1[..], Default::default())
        .expect("a results message, not empty bytes");
    message.get_root::<t::sleep_results::Reader>().unwrap();
}

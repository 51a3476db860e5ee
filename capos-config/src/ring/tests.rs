use super::local::LocalRing;
use super::*;
use alloc::vec;
use alloc::vec::Vec;

fn call(user_data: u64) -> Sqe {
    Sqe {
        user_data,
        interface_id: 0xfeed,
        cap_id: 7,
        method: 1,
        opcode: OP_CALL,
        ..Sqe::default()
    }
}

/// A process-side producer and kernel-side consumer of one ring.
fn pair(start: u32) -> (LocalRing, SqProducer, SqConsumer, CqProducer, CqConsumer) {
    let mem = LocalRing::new();
    init_ring(&mem, start);
    (
        mem,
        SqProducer::new(start),
        SqConsumer::new(start),
        CqProducer::new(start),
        CqConsumer::new(start),
    )
}

#[test]
fn layout_is_consistent() {
    assert_eq!(CQ_ARRAY - SQ_ARRAY, SQ_ENTRIES as usize * SQE_SIZE);
    assert_eq!(
        RING_SIZE - CQ_DATA,
        CQ_ENTRIES as usize * SLOT_DATA_SIZE as usize
    );
}

#[test]
fn entries_round_trip_through_encoding() {
    let sqe = Sqe {
        user_data: u64::MAX - 3,
        interface_id: 0x8000_0000_dead_beef,
        cap_id: 0x0001_0002,
        method: 513,
        opcode: OP_RELEASE,
        flags: 0,
        data_len: 2048,
    };
    assert_eq!(Sqe::decode(&sqe.encode()), (sqe, true));
    let cqe = Cqe {
        user_data: 42,
        result: CapError::Denied.code(),
        data_len: 12,
        flags: 3,
    };
    assert_eq!(Cqe::decode(&cqe.encode()), cqe);
    assert_eq!(cqe.error(), Some(CapError::Denied));
}

#[test]
fn sqe_with_junk_in_reserved_bytes_is_flagged() {
    let mut raw = call(1).encode();
    raw[30] = 1;
    assert!(!Sqe::decode(&raw).1);
}

#[test]
fn submit_publishes_a_batch_in_order_with_payloads() {
    let (mem, mut sq, mut kernel_sq, ..) = pair(0);
    for i in 0..10u64 {
        sq.push(&mem, &call(i), &[i as u8; 5]).unwrap();
    }
    assert_eq!(
        kernel_sq.pending(&mem),
        Ok(0),
        "nothing visible before submit"
    );
    assert_eq!(sq.submit(&mem), 10);
    for i in 0..10u64 {
        let s = kernel_sq.pop(&mem).unwrap().unwrap();
        assert_eq!(s.sqe.user_data, i);
        assert_eq!(s.data, vec![i as u8; 5]);
        assert_eq!(s.malformed, None);
    }
    assert_eq!(kernel_sq.pop(&mem), Ok(None));
}

#[test]
fn sq_full_and_empty_boundaries() {
    let (mem, mut sq, mut kernel_sq, ..) = pair(0);
    for i in 0..SQ_ENTRIES as u64 {
        sq.push(&mem, &call(i), &[]).unwrap();
    }
    assert_eq!(sq.push(&mem, &call(999), &[]), Err(PushError::Full));
    sq.submit(&mem);
    assert_eq!(kernel_sq.pending(&mem), Ok(SQ_ENTRIES));
    kernel_sq.pop(&mem).unwrap().unwrap();
    assert_eq!(sq.free(&mem), 1);
    sq.push(&mem, &call(999), &[]).unwrap();
    sq.submit(&mem);
    let mut last = 0;
    while let Some(s) = kernel_sq.pop(&mem).unwrap() {
        last = s.sqe.user_data;
    }
    assert_eq!(last, 999);
    assert_eq!(kernel_sq.pending(&mem), Ok(0));
}

#[test]
fn counters_wrap_around_u32_max() {
    let start = u32::MAX - 5;
    let (mem, mut sq, mut kernel_sq, mut cq, mut user_cq) = pair(start);
    let mut data = Vec::new();
    for round in 0..3u64 {
        for i in 0..SQ_ENTRIES as u64 {
            sq.push(&mem, &call(round * 1000 + i), &(i as u32).to_le_bytes())
                .unwrap();
        }
        sq.submit(&mem);
        for i in 0..SQ_ENTRIES as u64 {
            let s = kernel_sq.pop(&mem).unwrap().unwrap();
            assert_eq!(s.sqe.user_data, round * 1000 + i);
            assert_eq!(s.data, (i as u32).to_le_bytes());
            let c = Cqe {
                user_data: s.sqe.user_data,
                result: 0,
                ..Cqe::default()
            };
            cq.push(&mem, &c, &s.data).unwrap();
        }
        for i in 0..SQ_ENTRIES as u64 {
            let c = user_cq.pop(&mem, &mut data).unwrap().unwrap();
            assert_eq!(c.user_data, round * 1000 + i);
            assert_eq!(data, (i as u32).to_le_bytes());
        }
    }
    assert!(mem.load(SQ_TAIL) < start, "the counter really wrapped");
}

#[test]
fn cq_refuses_when_full_and_loses_nothing() {
    let (mem, _, _, mut cq, mut user_cq) = pair(7);
    for i in 0..CQ_ENTRIES as u64 {
        cq.push(
            &mem,
            &Cqe {
                user_data: i,
                ..Cqe::default()
            },
            &[],
        )
        .unwrap();
    }
    assert_eq!(cq.room(&mem), 0);
    assert_eq!(
        cq.push(
            &mem,
            &Cqe {
                user_data: 9999,
                ..Cqe::default()
            },
            &[]
        ),
        Err(PushError::Full)
    );
    let mut data = Vec::new();
    for i in 0..CQ_ENTRIES as u64 {
        assert_eq!(user_cq.pop(&mem, &mut data).unwrap().unwrap().user_data, i);
    }
    assert_eq!(cq.room(&mem), CQ_ENTRIES);
}

#[test]
fn oversized_payloads_are_refused_on_both_sides() {
    let (mem, mut sq, mut kernel_sq, mut cq, _) = pair(0);
    let big = vec![0u8; SLOT_DATA_SIZE as usize + 1];
    assert!(matches!(
        sq.push(&mem, &call(1), &big),
        Err(PushError::TooLarge { .. })
    ));
    assert!(matches!(
        cq.push(&mem, &Cqe::default(), &big),
        Err(PushError::TooLarge { .. })
    ));
    // A process that bypasses SqProducer and lies about data_len gets a
    // malformed entry, not an out-of-bounds read.
    let mut lie = call(5);
    lie.data_len = u32::MAX;
    mem.write(SQ_ARRAY, &lie.encode());
    mem.store(SQ_TAIL, 1);
    let s = kernel_sq.pop(&mem).unwrap().unwrap();
    assert!(s.malformed.is_some());
    assert!(s.data.is_empty());
}

#[test]
fn a_tail_beyond_capacity_is_a_violation_not_a_wild_read() {
    let (mem, _, mut kernel_sq, ..) = pair(0);
    mem.store(SQ_TAIL, SQ_ENTRIES + 1);
    assert!(matches!(
        kernel_sq.pop(&mem),
        Err(RingViolation::CounterOutOfRange { .. })
    ));
}

#[test]
fn a_corrupted_cq_head_cannot_grant_extra_room() {
    let (mem, _, _, mut cq, _) = pair(0);
    for _ in 0..3 {
        cq.push(&mem, &Cqe::default(), &[]).unwrap();
    }
    mem.store(CQ_HEAD, 1_000_000);
    assert!(cq.room(&mem) <= CQ_ENTRIES);
}

#[test]
fn doorbell_changes_the_word_and_wakes_only_a_sleeper() {
    let (mem, ..) = pair(0);
    let before = mem.load(CQ_DOORBELL);
    ring_doorbell(&mem);
    assert_eq!(mem.load(CQ_DOORBELL), before.wrapping_add(1));
    assert_eq!(mem.notify_count(), 0, "nobody sleeps: no notify");
    mem.store(CQ_WAITING, 1);
    ring_doorbell(&mem);
    assert_eq!(mem.load(CQ_DOORBELL), before.wrapping_add(2));
    assert_eq!(mem.notify_count(), 1, "the process sleeps: notified");
}

#[test]
fn a_batch_of_entries_and_data_crosses_the_wrap_intact() {
    let (mem, mut sq, mut kernel_sq, mut cq, mut cq_consumer) = pair(SQ_ENTRIES - 3);
    let params: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; 8 * (i as usize + 1)]).collect();
    for (i, p) in params.iter().enumerate() {
        let sqe = Sqe {
            user_data: i as u64,
            opcode: OP_CALL,
            ..Sqe::default()
        };
        sq.push(&mem, &sqe, p).unwrap();
    }
    assert_eq!(sq.submit(&mem), 7);
    let mut entries = vec![0; SQ_ENTRIES as usize * SQE_SIZE];
    let (first, count) = kernel_sq.take_batch(&mem, 64, &mut entries).unwrap();
    assert_eq!(count, 7);
    let lens: Vec<u32> = (0..7)
        .map(|i| {
            Sqe::decode(entries[i * SQE_SIZE..][..SQE_SIZE].try_into().unwrap())
                .0
                .data_len
        })
        .collect();
    let mut out = vec![0; 7 * SLOT_DATA_SIZE as usize];
    kernel_sq.read_params(&mem, first, &lens, &mut out, &mut Vec::new());
    for (i, p) in params.iter().enumerate() {
        assert_eq!(&out[i * SLOT_DATA_SIZE as usize..][..p.len()], &p[..]);
        // Answer each with its params reversed, across the CQ's wrap too.
        let reversed: Vec<u8> = p.iter().rev().copied().collect();
        let cqe = Cqe {
            user_data: i as u64,
            ..Cqe::default()
        };
        cq.stage(&mem, &cqe, &reversed).unwrap();
    }
    kernel_sq.release(&mem);
    assert!(cq.publish(&mem));
    let mut data = Vec::new();
    for (i, p) in params.iter().enumerate() {
        let cqe = cq_consumer.take(&mem, &mut data).unwrap().unwrap();
        assert_eq!(cqe.user_data, i as u64);
        assert_eq!(data, p.iter().rev().copied().collect::<Vec<u8>>());
    }
    assert!(cq_consumer.take(&mem, &mut data).unwrap().is_none());
}

#[test]
fn error_codes_round_trip() {
    for e in CapError::ALL {
        assert_eq!(CapError::from_code(e.code()), Some(e));
        assert!(e.code() < 0);
    }
    assert_eq!(CapError::from_code(0), None);
}

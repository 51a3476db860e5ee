//! clock_res_get, clock_time_get, poll_oneoff with clock subscriptions, sched_yield.

use std::process::ExitCode;

use wasi_tests::sys::{
    CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME, CLOCK_REALTIME, CLOCK_THREAD_CPUTIME, EVENTTYPE_CLOCK,
    EVENTTYPE_FD_READ, EVENTTYPE_FD_WRITE, SUBCLOCKFLAGS_ABSTIME,
};
use wasi_tests::wasi::{self, clock_subscription, fd_subscription};
use wasi_tests::{Checks, Errno};

const MS: u64 = 1_000_000;
const SECOND: u64 = 1_000 * MS;
/// 2020-01-01T00:00:00Z: any realtime clock worth the name is past it.
const YEAR_2020: u64 = 1_577_836_800 * SECOND;

fn monotonic() -> u64 {
    wasi::clock_time_get(CLOCK_MONOTONIC, 1).unwrap_or(0)
}

fn clock_checks(c: &mut Checks) {
    for (name, id) in [("REALTIME", CLOCK_REALTIME), ("MONOTONIC", CLOCK_MONOTONIC)] {
        let res = wasi::clock_res_get(id);
        c.ok(format!("clock_res_get({name})"), &res);
        let res = res.unwrap_or(0);
        c.holds(
            format!("{name} resolution is between 1 ns and 1 s"),
            (1..=SECOND).contains(&res),
        );
    }
    // The CPU-time clocks are optional: "For unsupported clocks, return errno::inval".
    for (name, id) in [
        ("PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME),
        ("THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME),
    ] {
        let res = wasi::clock_res_get(id);
        c.either(
            format!("clock_res_get({name})"),
            &res,
            Errno::SUCCESS,
            Errno::INVAL,
        );
        let time = wasi::clock_time_get(id, 1);
        c.either(
            format!("clock_time_get({name})"),
            &time,
            Errno::SUCCESS,
            Errno::INVAL,
        );
        c.holds(
            format!("{name}: clock_res_get and clock_time_get agree on support"),
            res.is_ok() == time.is_ok(),
        );
    }

    let now = wasi::clock_time_get(CLOCK_REALTIME, 1);
    c.ok("clock_time_get(REALTIME)", &now);
    c.holds("REALTIME is after 2020-01-01", now.unwrap_or(0) > YEAR_2020);
    c.ok(
        "clock_time_get(REALTIME, precision u64::MAX)",
        &wasi::clock_time_get(CLOCK_REALTIME, u64::MAX),
    );
    let first = wasi::clock_time_get(CLOCK_MONOTONIC, 0);
    c.ok("clock_time_get(MONOTONIC)", &first);
    let mut previous = first.unwrap_or(0);
    let mut never_back = true;
    for _ in 0..1000 {
        let t = monotonic();
        never_back &= t >= previous;
        previous = t;
    }
    c.holds("MONOTONIC never goes backwards over 1000 reads", never_back);
    c.ok("sched_yield", &wasi::sched_yield());
}

fn poll_checks(c: &mut Checks) {
    c.errno(
        "poll_oneoff with no subscriptions",
        &wasi::poll_oneoff(&[]),
        Errno::INVAL,
    );

    // A relative timeout never returns early.
    let start = monotonic();
    let events = wasi::poll_oneoff(&[clock_subscription(0xC10C, CLOCK_MONOTONIC, 20 * MS, 0)]);
    let elapsed = monotonic() - start;
    c.ok("poll_oneoff(MONOTONIC +20 ms)", &events);
    let events = events.unwrap_or_default();
    c.value("events after a relative timeout", events.len(), 1);
    if let Some(e) = events.first() {
        c.value("event userdata", e.userdata, 0xC10C);
        c.value("event type (clock is 0)", e.kind, EVENTTYPE_CLOCK);
        c.value("event error", Errno(e.error), Errno::SUCCESS);
    }
    c.holds("slept at least 20 ms", elapsed >= 20 * MS);
    c.holds("slept less than 5 s", elapsed < 5 * SECOND);

    // An absolute deadline on the same clock.
    let deadline = monotonic() + 20 * MS;
    let events = wasi::poll_oneoff(&[clock_subscription(
        7,
        CLOCK_MONOTONIC,
        deadline,
        SUBCLOCKFLAGS_ABSTIME,
    )]);
    let woke = monotonic();
    c.ok("poll_oneoff(MONOTONIC, absolute now + 20 ms)", &events);
    c.value(
        "events after an absolute deadline",
        events.unwrap_or_default().len(),
        1,
    );
    c.holds("woke at or after the absolute deadline", woke >= deadline);

    // Deadlines already past, and a zero timeout, complete at once.
    let start = monotonic();
    let past = wasi::poll_oneoff(&[clock_subscription(
        8,
        CLOCK_MONOTONIC,
        1,
        SUBCLOCKFLAGS_ABSTIME,
    )]);
    c.ok(
        "poll_oneoff(MONOTONIC, absolute deadline in the past)",
        &past,
    );
    c.value(
        "events for a past deadline",
        past.unwrap_or_default().len(),
        1,
    );
    let zero = wasi::poll_oneoff(&[clock_subscription(9, CLOCK_MONOTONIC, 0, 0)]);
    c.ok("poll_oneoff(MONOTONIC +0)", &zero);
    c.value(
        "events for a zero timeout",
        zero.unwrap_or_default().len(),
        1,
    );
    c.holds(
        "past and zero timeouts return within 1 s",
        monotonic() - start < SECOND,
    );

    // The REALTIME clock can time a sleep too.
    let start = monotonic();
    let events = wasi::poll_oneoff(&[clock_subscription(10, CLOCK_REALTIME, 10 * MS, 0)]);
    c.ok("poll_oneoff(REALTIME +10 ms)", &events);
    c.value(
        "events after a REALTIME timeout",
        events.unwrap_or_default().len(),
        1,
    );
    c.holds("slept at least 10 ms", monotonic() - start >= 10 * MS);

    // Of two timeouts only the earlier fires.
    let start = monotonic();
    let events = wasi::poll_oneoff(&[
        clock_subscription(1, CLOCK_MONOTONIC, 10 * MS, 0),
        clock_subscription(2, CLOCK_MONOTONIC, 10 * SECOND, 0),
    ]);
    c.ok("poll_oneoff(+10 ms, +10 s)", &events);
    let events = events.unwrap_or_default();
    c.value("events of the two timeouts", events.len(), 1);
    c.value(
        "the event is the +10 ms one (userdata)",
        events.first().map_or(0, |e| e.userdata),
        1,
    );
    c.holds(
        "returned long before 10 s",
        monotonic() - start < 5 * SECOND,
    );

    // stdout is always writable: its subscription fires before a 10 s timeout.
    let start = monotonic();
    let events = wasi::poll_oneoff(&[
        fd_subscription(11, EVENTTYPE_FD_WRITE, 1),
        clock_subscription(12, CLOCK_MONOTONIC, 10 * SECOND, 0),
    ]);
    c.ok("poll_oneoff(fd_write stdout, +10 s)", &events);
    let events = events.unwrap_or_default();
    c.holds(
        "stdout is writable and the timeout did not fire",
        events.len() == 1 && events[0].userdata == 11,
    );
    if let Some(e) = events.first() {
        c.value("event type (fd_write is 2)", e.kind, EVENTTYPE_FD_WRITE);
        c.value("event error", Errno(e.error), Errno::SUCCESS);
    }
    c.holds(
        "returned long before 10 s",
        monotonic() - start < 5 * SECOND,
    );

    // A subscription on a closed fd reports EBADF in its event.
    let events = wasi::poll_oneoff(&[
        fd_subscription(13, EVENTTYPE_FD_READ, 4000),
        clock_subscription(14, CLOCK_MONOTONIC, 10 * SECOND, 0),
    ]);
    c.ok("poll_oneoff(fd_read on unused fd 4000, +10 s)", &events);
    let events = events.unwrap_or_default();
    let bad = events.iter().find(|e| e.userdata == 13);
    c.value(
        "fd 4000 event error",
        bad.map_or(Errno::SUCCESS, |e| Errno(e.error)),
        Errno::BADF,
    );
    c.holds("only the fd 4000 event fired", events.len() == 1);
}

fn main() -> ExitCode {
    let mut c = Checks::begin("clocks_poll: clocks, poll_oneoff, sched_yield");
    clock_checks(&mut c);
    poll_checks(&mut c);
    c.finish()
}

//! What every generated client (`crate::clients`) is built on: a request
//! carrying its params message, the response carrying the results message,
//! and the [`Transport`] that carries one to the other. Written once, by
//! hand; the clients themselves are generated from the schema.
//!
//! ```text
//! let mut request = console.write_request();   // console: clients::Console<T>
//! request.get().set_data(b"hello\n");
//! request.send()?;                              // a call through T
//! let ns = timer.now_request().send()?.get()?.get_ns();
//! ```

use capnp::message::{HeapAllocator, TypedBuilder, TypedReader};
use capnp::serialize::OwnedSegments;
use capnp::traits::Owned;
use std::fmt;
use std::marker::PhantomData;

/// Where a call goes: a capability of the caller, the interface it serves
/// and one of that interface's methods (the SQE's addressing fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallTarget {
    pub cap_id: u32,
    pub interface_id: u64,
    pub method: u16,
}

/// How a call is made: capos-rt implements it with the process's ring, the
/// tests with a fake kernel. Calls are synchronous; a transport that can do
/// more (deferred or batched calls) takes the parts of a request instead
/// ([`Request::target`], [`Request::params_bytes`]).
pub trait Transport {
    /// What a failed call is; a results message that cannot be read is one.
    type Error: From<capnp::Error>;

    /// Makes the call and blocks for its results message.
    fn call(&self, target: CallTarget, params: &[u8]) -> Result<Vec<u8>, Self::Error>;
}

/// What every generated client has: the interface it serves and the
/// capability it calls.
pub trait Client: Sized {
    type Transport;
    const INTERFACE_ID: u64;
    /// The interface's name in the schema.
    const NAME: &'static str;

    /// A client of capability `cap_id`, which the caller says serves
    /// `interface_id`: refused if that is not this client's interface.
    fn from_cap(
        cap_id: u32,
        interface_id: u64,
        transport: Self::Transport,
    ) -> Result<Self, WrongInterface>;

    /// The capability's id in the caller's CapTable.
    fn cap_id(&self) -> u32;
}

/// A client was asked for a capability of another interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrongInterface {
    pub cap_id: u32,
    /// The interface the capability serves.
    pub found: u64,
    /// The interface the client speaks.
    pub expected: u64,
    pub expected_name: &'static str,
}

impl fmt::Display for WrongInterface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "capability {:#x} serves interface {:#x}, not {}",
            self.cap_id, self.found, self.expected_name
        )
    }
}

impl std::error::Error for WrongInterface {}

/// The check every generated `from_cap` makes.
pub fn check_interface<C: Client>(cap_id: u32, interface_id: u64) -> Result<(), WrongInterface> {
    if interface_id == C::INTERFACE_ID {
        Ok(())
    } else {
        Err(WrongInterface {
            cap_id,
            found: interface_id,
            expected: C::INTERFACE_ID,
            expected_name: C::NAME,
        })
    }
}

/// A params message sized for a ring slot: capnp's default first segment is
/// 8 KiB, zeroed for every message, while a slot holds far less.
pub fn params_builder() -> capnp::message::Builder<HeapAllocator> {
    capnp::message::Builder::new(HeapAllocator::new().first_segment_words(32))
}

/// A params message of type `P`, its root initialised (for a call made
/// without a client, too).
pub struct Params<P: Owned> {
    message: TypedBuilder<P, HeapAllocator>,
}

impl<P: Owned> Params<P> {
    pub fn new() -> Self {
        let mut message = TypedBuilder::new(params_builder());
        message.init_root();
        Self { message }
    }

    /// The root, to fill in.
    pub fn get(&mut self) -> P::Builder<'_> {
        self.message
            .get_root()
            .expect("the root was initialised as P by `new`")
    }

    /// The message as the ring carries it (segment table and segments).
    pub fn to_bytes(&self) -> Vec<u8> {
        capnp::serialize::write_message_to_words(self.message.borrow_inner())
    }
}

impl<P: Owned> Default for Params<P> {
    fn default() -> Self {
        Self::new()
    }
}

/// One call being prepared: params `P` to build with [`get`](Self::get),
/// results `R` to expect once [`send`](Self::send) has made it through `T`.
pub struct Request<P: Owned, R: Owned, T> {
    target: CallTarget,
    params: Params<P>,
    transport: T,
    results: PhantomData<fn() -> R>,
}

impl<P: Owned, R: Owned, T: Transport> Request<P, R, T> {
    /// A request with empty params (what generated clients return).
    pub fn new(target: CallTarget, transport: T) -> Self {
        Self {
            target,
            params: Params::new(),
            transport,
            results: PhantomData,
        }
    }

    /// The params' root, to fill in.
    pub fn get(&mut self) -> P::Builder<'_> {
        self.params.get()
    }

    pub fn target(&self) -> CallTarget {
        self.target
    }

    /// The params message as the ring carries it.
    pub fn params_bytes(&self) -> Vec<u8> {
        self.params.to_bytes()
    }

    /// Makes the call and waits for its results.
    pub fn send(self) -> Result<Response<R>, T::Error> {
        let results = self.transport.call(self.target, &self.params_bytes())?;
        Ok(Response::read(&results)?)
    }
}

/// A call's results message, decoded as `R`.
pub struct Response<R: Owned> {
    message: TypedReader<OwnedSegments, R>,
}

impl<R: Owned> Response<R> {
    /// Reads a results message (bounded by one ring slot, so the default
    /// limits are ample).
    pub fn read(results: &[u8]) -> capnp::Result<Self> {
        let message = capnp::serialize::read_message(
            &mut &results[..],
            capnp::message::ReaderOptions::new(),
        )?;
        Ok(Self {
            message: TypedReader::new(message),
        })
    }

    /// The results' root.
    pub fn get(&self) -> capnp::Result<R::Reader<'_>> {
        self.message.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::{Console, Directory, Timer};
    use crate::interfaces;
    use crate::{cap_capnp, console_capnp::console, fs_capnp::directory, timer_capnp::timer};
    use std::cell::RefCell;

    /// A kernel stand-in: records each call and answers with `results`.
    #[derive(Debug, Default, PartialEq, Eq)]
    struct FakeKernel {
        calls: RefCell<Vec<(CallTarget, Vec<u8>)>>,
        results: Vec<u8>,
        refuse: bool,
    }

    #[derive(Debug, PartialEq, Eq)]
    enum FakeError {
        Refused,
        Capnp(String),
    }

    impl From<capnp::Error> for FakeError {
        fn from(e: capnp::Error) -> Self {
            Self::Capnp(e.to_string())
        }
    }

    impl Transport for &FakeKernel {
        type Error = FakeError;

        fn call(&self, target: CallTarget, params: &[u8]) -> Result<Vec<u8>, FakeError> {
            self.calls.borrow_mut().push((target, params.to_vec()));
            if self.refuse {
                return Err(FakeError::Refused);
            }
            Ok(self.results.clone())
        }
    }

    fn answering<R: Owned>(fill: impl FnOnce(R::Builder<'_>)) -> FakeKernel {
        let mut results = Params::<R>::new();
        fill(results.get());
        FakeKernel {
            results: results.to_bytes(),
            ..FakeKernel::default()
        }
    }

    fn read<P: Owned>(params: &[u8]) -> TypedReader<OwnedSegments, P> {
        let message =
            capnp::serialize::read_message(&mut &params[..], capnp::message::ReaderOptions::new())
                .unwrap();
        TypedReader::new(message)
    }

    #[test]
    fn a_call_carries_the_params_the_schema_names_to_the_right_method() {
        let kernel = answering::<console::write_results::Owned>(|_| {});
        let client = Console::from_cap(7, interfaces::console::INTERFACE_ID, &kernel).unwrap();
        assert_eq!(client.cap_id(), 7);
        let mut request = client.write_request();
        request.get().set_data(b"hello\n");
        request.send().unwrap();

        let calls = kernel.calls.borrow();
        let [(target, params)] = calls.as_slice() else {
            panic!("one call, not {}", calls.len())
        };
        assert_eq!(
            *target,
            CallTarget {
                cap_id: 7,
                interface_id: interfaces::console::INTERFACE_ID,
                method: interfaces::console::method::WRITE,
            }
        );
        let params = read::<console::write_params::Owned>(params);
        assert_eq!(params.get().unwrap().get_data().unwrap(), b"hello\n");
    }

    #[test]
    fn params_are_the_message_a_hand_built_builder_makes() {
        let kernel = FakeKernel::default();
        let client = Console::from_cap(1, interfaces::console::INTERFACE_ID, &kernel).unwrap();
        let mut request = client.wait_readable_request();
        request.get().set_timeout_ns(5);

        let mut by_hand = params_builder();
        by_hand
            .init_root::<console::wait_readable_params::Builder>()
            .set_timeout_ns(5);
        assert_eq!(
            request.params_bytes(),
            capnp::serialize::write_message_to_words(&by_hand)
        );
    }

    #[test]
    fn results_are_decoded_as_the_schema_says() {
        let kernel = answering::<timer::now_results::Owned>(|mut r| r.set_ns(1_234_567));
        let client = Timer::from_cap(3, interfaces::timer::INTERFACE_ID, &kernel).unwrap();
        let response = client.now_request().send().unwrap();
        assert_eq!(response.get().unwrap().get_ns(), 1_234_567);
        assert_eq!(
            kernel.calls.borrow()[0].0.method,
            interfaces::timer::method::NOW
        );
    }

    #[test]
    fn a_capability_of_another_interface_is_refused() {
        let kernel = FakeKernel::default();
        let err = Console::from_cap(9, interfaces::timer::INTERFACE_ID, &kernel).unwrap_err();
        assert_eq!(
            err,
            WrongInterface {
                cap_id: 9,
                found: interfaces::timer::INTERFACE_ID,
                expected: interfaces::console::INTERFACE_ID,
                expected_name: "Console",
            }
        );
        assert!(err.to_string().ends_with("not Console"), "{err}");
        assert!(kernel.calls.borrow().is_empty());
    }

    #[test]
    fn a_refused_call_and_unreadable_results_are_errors() {
        let refusing = FakeKernel {
            refuse: true,
            ..FakeKernel::default()
        };
        let client = Timer::from_cap(3, interfaces::timer::INTERFACE_ID, &refusing).unwrap();
        assert_eq!(client.now_request().send().err(), Some(FakeError::Refused));

        let garbled = FakeKernel {
            results: b"not a message".to_vec(),
            ..FakeKernel::default()
        };
        let client = Timer::from_cap(3, interfaces::timer::INTERFACE_ID, &garbled).unwrap();
        assert!(matches!(
            client.now_request().send().err(),
            Some(FakeError::Capnp(_))
        ));
    }

    #[test]
    fn a_capability_travels_as_a_cap_transfer() {
        let kernel = answering::<directory::rename_results::Owned>(|mut r| r.set_errno(18));
        let dir = Directory::from_cap(4, interfaces::directory::INTERFACE_ID, &kernel).unwrap();
        let mut request = dir.rename_request();
        let mut params = request.get();
        params.set_path("a");
        let mut target = params.reborrow().init_target();
        target.set_cap_id(dir.cap_id());
        target.set_mode(capos_config::TransferMode::Copy.into());
        params.set_new_path("b");
        let response = request.send().unwrap();
        assert_eq!(response.get().unwrap().get_errno(), 18);

        let calls = kernel.calls.borrow();
        assert_eq!(calls[0].0.method, interfaces::directory::method::RENAME);
        let params = read::<directory::rename_params::Owned>(&calls[0].1);
        let params = params.get().unwrap();
        let target = params.get_target().unwrap();
        assert_eq!(target.get_cap_id(), 4);
        assert_eq!(target.get_mode().unwrap(), cap_capnp::TransferMode::Copy);
        assert_eq!(params.get_new_path().unwrap(), "b");
    }
}

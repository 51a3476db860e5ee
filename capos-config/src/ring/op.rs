//! An SQE decoded once into what it asks for.
//!
//! The kernel turns every entry it takes into an [`Op`] before acting on it:
//! the opcode becomes a variant, the fields that variant does not use must be
//! zero, and the `flags` byte (no flag is defined yet) must be zero. Anything
//! else is a [`SqeFault`], answered with `BadSqe` and a reason.

use super::{OP_CALL, OP_NOP, OP_RELEASE, SLOT_DATA_SIZE, SQE_SIZE, Sqe};
use core::fmt;

/// What one SQE asks the kernel to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Complete at once with 0: the cheapest round trip.
    Nop,
    /// Invoke `method` of `interface_id` on capability `cap_id`, with a
    /// params message of `params_len` bytes in the entry's data slot.
    Call {
        cap_id: u32,
        interface_id: u64,
        method: u16,
        params_len: u32,
    },
    /// Drop capability `cap_id` from the caller's table.
    Release { cap_id: u32 },
}

/// Why an SQE cannot be acted on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SqeFault {
    UnknownOpcode(u8),
    /// A flag bit is set; none is defined.
    Flags(u8),
    /// A field the opcode does not use is not zero.
    UnusedField(&'static str),
    DataTooLong(u32),
    /// The entry's reserved bytes are not zero (kept free for future fields).
    Reserved,
}

impl Op {
    /// Decodes a raw entry: the entry (its `user_data` is owed a completion
    /// whatever else is wrong) and what it asks for.
    pub fn decode(raw: &[u8; SQE_SIZE]) -> (Sqe, Result<Op, SqeFault>) {
        let (sqe, reserved_clear) = Sqe::decode(raw);
        let op = if reserved_clear {
            Op::try_from(&sqe)
        } else {
            Err(SqeFault::Reserved)
        };
        (sqe, op)
    }
}

impl fmt::Display for SqeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownOpcode(op) => write!(f, "unknown opcode {op}"),
            Self::Flags(flags) => write!(f, "flags {flags:#04x} set (no flag is defined)"),
            Self::UnusedField(field) => write!(f, "{field} must be zero for this opcode"),
            Self::Reserved => f.write_str("reserved SQE bytes are not zero"),
            Self::DataTooLong(len) => write!(
                f,
                "data_len {len} exceeds the {SLOT_DATA_SIZE}-byte ring slot"
            ),
        }
    }
}

impl TryFrom<&Sqe> for Op {
    type Error = SqeFault;

    fn try_from(sqe: &Sqe) -> Result<Self, SqeFault> {
        if sqe.flags != 0 {
            return Err(SqeFault::Flags(sqe.flags));
        }
        let unused = |zero: bool, field| {
            if zero {
                Ok(())
            } else {
                Err(SqeFault::UnusedField(field))
            }
        };
        match sqe.opcode {
            OP_NOP => {
                unused(sqe.cap_id == 0, "cap_id")?;
                unused(sqe.interface_id == 0, "interface_id")?;
                unused(sqe.method == 0, "method")?;
                unused(sqe.data_len == 0, "data_len")?;
                Ok(Op::Nop)
            }
            OP_CALL => {
                if sqe.data_len > SLOT_DATA_SIZE {
                    return Err(SqeFault::DataTooLong(sqe.data_len));
                }
                Ok(Op::Call {
                    cap_id: sqe.cap_id,
                    interface_id: sqe.interface_id,
                    method: sqe.method,
                    params_len: sqe.data_len,
                })
            }
            OP_RELEASE => {
                unused(sqe.interface_id == 0, "interface_id")?;
                unused(sqe.method == 0, "method")?;
                unused(sqe.data_len == 0, "data_len")?;
                Ok(Op::Release { cap_id: sqe.cap_id })
            }
            op => Err(SqeFault::UnknownOpcode(op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqe(opcode: u8) -> Sqe {
        Sqe {
            opcode,
            ..Sqe::default()
        }
    }

    #[test]
    fn each_opcode_decodes_to_its_op() {
        assert_eq!(Op::try_from(&sqe(OP_NOP)), Ok(Op::Nop));
        let call = Sqe {
            cap_id: 7,
            interface_id: 9,
            method: 2,
            data_len: 16,
            ..sqe(OP_CALL)
        };
        assert_eq!(
            Op::try_from(&call),
            Ok(Op::Call {
                cap_id: 7,
                interface_id: 9,
                method: 2,
                params_len: 16
            })
        );
        let release = Sqe {
            cap_id: 7,
            ..sqe(OP_RELEASE)
        };
        assert_eq!(Op::try_from(&release), Ok(Op::Release { cap_id: 7 }));
    }

    #[test]
    fn flags_unused_fields_and_unknown_opcodes_are_faults() {
        let flagged = Sqe {
            flags: 1,
            ..sqe(OP_CALL)
        };
        assert_eq!(Op::try_from(&flagged), Err(SqeFault::Flags(1)));
        assert_eq!(Op::try_from(&sqe(9)), Err(SqeFault::UnknownOpcode(9)));
        let nop_with_data = Sqe {
            data_len: 4,
            ..sqe(OP_NOP)
        };
        assert_eq!(
            Op::try_from(&nop_with_data),
            Err(SqeFault::UnusedField("data_len"))
        );
        let release_with_method = Sqe {
            method: 1,
            ..sqe(OP_RELEASE)
        };
        assert_eq!(
            Op::try_from(&release_with_method),
            Err(SqeFault::UnusedField("method"))
        );
        let too_long = Sqe {
            data_len: SLOT_DATA_SIZE + 1,
            ..sqe(OP_CALL)
        };
        assert_eq!(
            Op::try_from(&too_long),
            Err(SqeFault::DataTooLong(SLOT_DATA_SIZE + 1))
        );
    }
}

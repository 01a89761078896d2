"""Raw addresses as typed pointers, and the C functions the callback calls.

numba has no cast from an integer to a pointer; these intrinsics emit the one
LLVM instruction that does it. Every address comes from a numpy array or a
shared-memory mapping that the Python side keeps alive for as long as the
callback is registered.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


def _pointer_intrinsic(element: types.Type):
    pointer = types.CPointer(element)

    @intrinsic
    def as_pointer(typingctx, address):
        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(pointer))

        return pointer(address), codegen

    return as_pointer


#: integer address → ``int64*`` / ``float32*`` / ``float64*`` / ``void*``.
i64_ptr = _pointer_intrinsic(types.int64)
f32_ptr = _pointer_intrinsic(types.float32)
f64_ptr = _pointer_intrinsic(types.float64)


@intrinsic
def void_ptr(typingctx, address):
    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(types.voidptr))

    return types.voidptr(address), codegen


@intrinsic
def address_of(typingctx, pointer):
    """Any pointer → int64 address."""

    def codegen(context, builder, signature, args):
        return builder.ptrtoint(args[0], ir.IntType(64))

    return types.int64(pointer), codegen


def _llvm(kind: str) -> ir.Type:
    return {"i32": ir.IntType(32), "i64": ir.IntType(64), "ptr": ir.IntType(8).as_pointer()}[kind]


def _to_llvm(builder, value, kind: str):
    if kind == "ptr":
        return builder.inttoptr(value, _llvm("ptr"))
    if kind == "i32":
        return builder.trunc(value, _llvm("i32"))
    return value


def _from_llvm(builder, value, kind: str):
    if kind == "ptr":
        return builder.ptrtoint(value, _llvm("i64"))
    if kind == "i32":
        return builder.sext(value, _llvm("i64"))
    return value


def _emit_call(builder, args, ret: str, kinds: tuple[str, ...]):
    """Call the C function at address ``args[0]`` with ``args[1:]`` (all int64)."""
    fnty = ir.FunctionType(_llvm(ret), [_llvm(k) for k in kinds])
    fn = builder.inttoptr(args[0], fnty.as_pointer())
    converted = [_to_llvm(builder, a, k) for a, k in zip(args[1:], kinds, strict=True)]
    return _from_llvm(builder, builder.call(fn, converted), ret)


def _c_call(ret: str, *kinds: str):
    """An intrinsic ``call(fn_address, *args) -> int64`` for a C function of that
    signature, every argument an int64 (pointers as addresses). The address is
    data, not a constant baked into the code, so the compiled callback can be
    cached on disk and reused by the next process."""
    signature = types.int64(*([types.int64] * (1 + len(kinds))))

    def codegen(context, builder, sig, args):
        return _emit_call(builder, args, ret, kinds)

    arity = len(kinds)
    if arity == 0:

        @intrinsic
        def call0(typingctx, fn):
            return signature, codegen

        return call0
    if arity == 2:

        @intrinsic
        def call2(typingctx, fn, a, b):
            return signature, codegen

        return call2
    if arity == 3:

        @intrinsic
        def call3(typingctx, fn, a, b, c):
            return signature, codegen

        return call3

    @intrinsic
    def call5(typingctx, fn, a, b, c, d, e):
        return signature, codegen

    return call5


#: ``ssize_t write(int fd, const void *buf, size_t n)``: rings a doorbell FIFO.
call_write = _c_call("i64", "i32", "ptr", "i64")
#: ``int clock_gettime(clockid_t, struct timespec *)``: the callback thread's CPU time.
call_clock_gettime = _c_call("i32", "i32", "ptr")
#: ``void *jack_port_get_buffer(jack_port_t *, jack_nframes_t)``.
call_port_get_buffer = _c_call("ptr", "ptr", "i32")
#: ``jack_time_t jack_get_time(void)``: µs.
call_get_time = _c_call("i64")
#: ``int jack_get_cycle_times(client, uint32 *frames, uint64 *usecs, uint64 *next, float *period)``.
call_get_cycle_times = _c_call("i32", "ptr", "ptr", "ptr", "ptr", "ptr")
CLOCK_THREAD_CPUTIME_ID = 3


def _address(lib: ctypes.CDLL, name: str) -> int:
    return ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0


def libc_addresses() -> tuple[int, int]:
    """Addresses of ``write`` and ``clock_gettime``."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return _address(libc, "write"), _address(libc, "clock_gettime")


def jack_addresses() -> tuple[int, int, int]:
    """Addresses of ``jack_port_get_buffer``, ``jack_get_time`` and
    ``jack_get_cycle_times``; OSError where libjack cannot be loaded."""
    lib = ctypes.CDLL("libjack.so.0")
    return tuple(  # type: ignore[return-value]
        _address(lib, name)
        for name in ("jack_port_get_buffer", "jack_get_time", "jack_get_cycle_times")
    )


@intrinsic
def fence(typingctx):
    """A full memory fence: neither the compiler nor the CPU moves a load or
    store across it. The seqlock's order (sequence word, payload, sequence
    word, index) is exactly what the Python implementation gets for free."""

    def codegen(context, builder, signature, args):
        builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.void(), codegen

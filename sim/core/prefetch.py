"""A software prefetch for the core's customer loops.

A customer's relationship record sits wherever its block landed in the pool, so once the
pool outgrows the caches every loop over customers waits on memory for each record
(half the step time at 10^5 customers, by perf). The loops know which record they will
need a few customers ahead; asking for it early overlaps those waits. A prefetch is only
a hint: it changes no value, so results do not depend on it.
"""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

AHEAD = 16  # customers ahead: ~100 ns of memory latency over ~10 ns per customer


@intrinsic
def prefetch(typingctx, array, index):
    """Ask the CPU to bring ``array[index]`` (a 1-d array) into the cache; no effect on
    results, and no bounds check is needed: prefetching an invalid address never faults."""
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, _ = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [args[1]], wraparound=False)
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        builder.call(fn, [ptr, i32(0), i32(3), i32(1)])  # read, keep in all levels, data
        return context.get_dummy_value()

    return types.void(array, index), codegen

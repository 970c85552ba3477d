"""Borrowed views: arrays passed down the core's calls without reference counting.

numba counts references to every array a compiled function passes to another: an atomic
add when the callee takes it and another when it lets go. In the customer loops that is
several atomic operations per customer for the same few arrays (the parameter record
above all): a fifth of a small world's step time, by perf. An array whose owner outlives
the whole compiled call needs none of it. :func:`borrowed` gives views with no owner record
(meminfo), for which every count is a no-op; it changes no value.

Only for arrays that are neither replaced nor returned within the call: a borrowed view
must never reach Python or outlive its owner.
"""

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


def _view(context, builder, aryty, value):
    """The array struct ``value`` with a null owner (and no Python parent)."""
    ary = context.make_array(aryty)(context, builder, value)
    ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
    ary.parent = cgutils.get_null_value(ary.parent.type)
    return ary._getvalue()


@intrinsic
def borrowed(typingctx, value):
    """``value`` (an array, or a tuple or named tuple whose arrays are replaced) with every
    array as a view that reference counting skips; other members are kept as they are."""
    if isinstance(value, types.Array):
        members = None
    elif isinstance(value, types.BaseTuple):
        members = list(value.types)
    else:
        return None

    def codegen(context, builder, signature, args):
        if members is None:
            return _view(context, builder, value, args[0])
        out = args[0]
        for k, ty in enumerate(members):
            if isinstance(ty, types.Array):
                item = builder.extract_value(out, k)
                out = builder.insert_value(out, _view(context, builder, ty, item), k)
        return out

    return value(value), codegen

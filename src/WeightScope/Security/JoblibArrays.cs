namespace WeightScope.Security;

/// <summary>
/// joblib's array layout inside a dump (joblib 1.2 <c>joblib/numpy_pickle.py</c>): each numpy array is pickled as a
/// <c>joblib.numpy_pickle.NumpyArrayWrapper</c> whose attributes hold <c>shape</c>, <c>order</c>, <c>dtype</c> and (joblib
/// ≥ 1.2) <c>numpy_array_alignment_bytes</c>. <c>NumpyUnpickler.load_build</c> runs the ordinary BUILD, then, when
/// <c>isinstance(self.stack[-1], NumpyArrayWrapper)</c>, reads the array from the file right after the BUILD: one byte
/// giving a padding length and that much padding (when the alignment attribute is not None), then
/// <c>prod(shape) × itemsize</c> raw bytes — or, when <c>dtype.hasobject</c>, a nested <c>pickle.load</c>.
/// The walk models exactly that: only a genuine instance (made by NEWOBJ/NEWOBJ_EX of the class, by calling it, by
/// OBJ/INST, or by <c>copyreg._reconstructor</c>/<c>__newobj__</c>/<c>__newobj_ex__</c> of it) makes it skip bytes, with
/// the attributes its constructor and BUILDs set, as Python sets them.
/// </summary>
internal static class JoblibArrays
{
    /// <summary>One array's layout in the file.</summary>
    internal sealed record Layout(long[] Shape, long ItemSize, long ByteCount, bool Aligned, bool HasObjects);

    // NumpyArrayWrapper.__init__'s parameters, in order, and the default of the last (joblib 1.2 NUMPY_ARRAY_ALIGNMENT_BYTES).
    private static readonly string[] InitParameters = ["subclass", "shape", "order", "dtype", "allow_mmap", "numpy_array_alignment_bytes"];
    private const long DefaultAlignment = 16;

    // The class joblib's load_build checks with isinstance, and the copy scikit-learn vendored before 0.23 (whose own
    // joblib checks its own class).
    private static bool IsWrapperClass(PickleGlobalFinding f) =>
        f.ResolvedName is "joblib.numpy_pickle.NumpyArrayWrapper" or "sklearn.externals.joblib.numpy_pickle.NumpyArrayWrapper";

    /// <summary>
    /// The attributes of a new wrapper instance when <paramref name="opcode"/> applied to global <paramref name="index"/>
    /// with <paramref name="args"/> makes one; null when it does not.
    /// </summary>
    public static PickleGlobalWalker.DictValue? NewInstance(List<PickleGlobalFinding> findings, int index, string opcode, object? args)
    {
        var f = findings[index];
        var a = args as object?[];
        if (IsWrapperClass(f))
        {
            switch (opcode)
            {
                case "NEWOBJ" or "NEWOBJ_EX": return new(); // cls.__new__(cls, …): no __init__, no attributes
                // cls(*args) — REDUCE, and OBJ/INST with arguments — runs __init__; OBJ/INST without arguments only __new__.
                case "REDUCE": return Init(a);
                case "OBJ" or "INST": return a is { Length: > 0 } ? Init(a) : new();
                default: return null;
            }
        }
        // copyreg._reconstructor(cls, object, None) (protocols 0-1), copyreg.__newobj__(cls, …), __newobj_ex__(cls, args, kwargs).
        if (opcode == "REDUCE" && f.ResolvedName is "copyreg._reconstructor" or "copyreg.__newobj__" or "copyreg.__newobj_ex__"
            && a is { Length: > 0 } && a[0] is PickleGlobalWalker.GlobalRef cls && IsWrapperClass(findings[cls.Index]))
            return new();
        return null;
    }

    // __init__(self, subclass, shape, order, dtype, allow_mmap=False, numpy_array_alignment_bytes=16). Too few or too many
    // arguments raise TypeError in Python and the load stops; the attributes are then never read.
    private static PickleGlobalWalker.DictValue? Init(object?[]? args)
    {
        if (args is null || args.Length < 4 || args.Length > InitParameters.Length) return null;
        var d = new PickleGlobalWalker.DictValue();
        for (int i = 0; i < InitParameters.Length; i++)
            d.Items.Add(new(InitParameters[i], i < args.Length ? args[i] : i == 4 ? false : DefaultAlignment));
        return d;
    }

    /// <summary>
    /// Applies a BUILD's state as pickle's <c>load_build</c> does for a class without <c>__setstate__</c>: a
    /// <c>(state, slotstate)</c> pair is split; the state dict updates <c>__dict__</c>, the slot state sets attributes.
    /// A state the walk cannot read (not a dict it built) leaves the attributes unknown.
    /// </summary>
    public static void SetState(PickleGlobalWalker.DictValue attributes, object? state)
    {
        if (state is object?[] { Length: 2 } pair) { Merge(attributes, pair[0]); Merge(attributes, pair[1]); }
        else Merge(attributes, state);
    }

    private static void Merge(PickleGlobalWalker.DictValue attributes, object? state)
    {
        switch (state)
        {
            case null: return;
            case PickleGlobalWalker.DictValue d: attributes.Items.AddRange(d.Items); return; // later items win, as in a dict
            default: attributes.Unknown = true; return;
        }
    }

    /// <summary>The array's layout from the wrapper's attributes, or null when they are not what joblib can read.</summary>
    public static Layout? Describe(PickleGlobalWalker.DictValue attributes, List<PickleGlobalFinding> findings)
    {
        if (attributes.Unknown) return null;
        if (attributes["shape"] is not object?[] dims) return null;
        var shape = new long[dims.Length];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] is not long d || d < 0) return null;
            shape[i] = d;
            try { count = checked(count * d); }
            catch (OverflowException) { return null; }
        }
        if (DType(attributes["dtype"], findings) is not var (itemSize, hasObjects) || itemSize < 0) return null;
        long bytes;
        try { bytes = checked(count * itemSize); }
        catch (OverflowException) { return null; }
        // safe_get_numpy_array_alignment_bytes: getattr(self, 'numpy_array_alignment_bytes', None).
        bool aligned = attributes.Has("numpy_array_alignment_bytes") && attributes["numpy_array_alignment_bytes"] is not null;
        return new Layout(shape, itemSize, bytes, aligned, hasObjects);
    }

    // numpy's dtype.__reduce__ (numpy/core/src/multiarray/descriptor.c): numpy.dtype called with (kind + size, False, True),
    // then BUILD with (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]). What
    // __setstate__ does with them was checked against numpy 1.24: the flexible kinds (V, S, a, U) take their item size
    // from elsize, every other kind from the code; 'O' always holds objects, the flexible and datetime kinds (V, S, a, U,
    // M, m) hold objects when flags bit 0 (NPY_ITEM_REFCOUNT) is set, the others never (their flags are ignored).
    private static (long ItemSize, bool HasObjects)? DType(object? value, List<PickleGlobalFinding> findings)
    {
        if (value is not PickleGlobalWalker.CallResult call) return null;
        if (findings[call.Index].ResolvedName is not ("numpy.dtype")) return null;
        if (call.Args is not object?[] { Length: > 0 } args || args[0] is not string code || code.Length < 2) return null;
        char kind = code[0];
        if (!long.TryParse(code.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long size))
            return null;
        long elsize = -1, flags = 0;
        if (call.State is object?[] { Length: >= 8 } s)
        {
            if (s[5] is long e) elsize = e;
            if (s[7] is long fl) flags = fl;
        }
        bool flexible = kind is 'V' or 'S' or 'a' or 'U';
        long itemSize = flexible && elsize >= 0 ? elsize : kind == 'U' ? checked(size * 4) : size;
        bool objects = kind == 'O' || ((flags & 1) != 0 && kind is 'V' or 'S' or 'a' or 'U' or 'M' or 'm');
        return (itemSize, objects);
    }
}

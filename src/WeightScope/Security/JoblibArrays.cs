namespace WeightScope.Security;

/// <summary>
/// joblib's array layout inside a dump (<c>joblib/numpy_pickle.py</c>): each numpy array is pickled as a
/// <c>joblib.numpy_pickle.NumpyArrayWrapper</c> whose state holds <c>shape</c>, <c>order</c>, <c>dtype</c> and (joblib ≥ 1.2)
/// <c>numpy_array_alignment_bytes</c>; the unpickler's <c>load_build</c> then reads the array from the file right after
/// the <c>BUILD</c>: one byte giving a padding length and that much padding (when the alignment is set), then
/// <c>prod(shape) × itemsize</c> raw bytes — or, for an object array, a nested protocol 2 pickle of the array.
/// The walk needs this only to know where the opcodes go on.
/// </summary>
internal static class JoblibArrays
{
    /// <summary>One array's layout in the file.</summary>
    internal sealed record Layout(long[] Shape, long ItemSize, long ByteCount, bool Aligned, bool HasObjects);

    // The modules joblib has lived in: its own, and the copy scikit-learn vendored before 0.23.
    private static bool IsWrapperClass(PickleGlobalFinding f) =>
        f.Name == "NumpyArrayWrapper" && f.Module is "joblib.numpy_pickle" or "sklearn.externals.joblib.numpy_pickle";

    /// <summary>Whether <paramref name="built"/> is a NumpyArrayWrapper instance: made by <c>NEWOBJ</c> of the class
    /// (protocol ≥ 2) or by <c>copyreg._reconstructor(cls, object, None)</c> (protocols 0 and 1).</summary>
    public static bool IsWrapper(PickleGlobalWalker.CallResult built, List<PickleGlobalFinding> findings)
    {
        var f = findings[built.Index];
        if (IsWrapperClass(f)) return true;
        return f.Module is "copyreg" or "copy_reg" && f.Name == "_reconstructor"
               && built.Args is object?[] { Length: > 0 } args && args[0] is PickleGlobalWalker.GlobalRef cls && IsWrapperClass(findings[cls.Index]);
    }

    /// <summary>The array's layout from the wrapper's state, or null when the state is not what joblib writes.</summary>
    public static Layout? Describe(PickleGlobalWalker.CallResult wrapper, List<PickleGlobalFinding> findings)
    {
        if (wrapper.State is not PickleGlobalWalker.DictValue state) return null;
        if (state["shape"] is not object?[] dims) return null;
        var shape = new long[dims.Length];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] is not long d || d < 0) return null;
            shape[i] = d;
            try { count = checked(count * d); }
            catch (OverflowException) { return null; }
        }
        if (DType(state["dtype"], findings) is not var (itemSize, hasObjects) || itemSize < 0) return null;
        long bytes;
        try { bytes = checked(count * itemSize); }
        catch (OverflowException) { return null; }
        bool aligned = state.Has("numpy_array_alignment_bytes") && state["numpy_array_alignment_bytes"] is not null;
        return new Layout(shape, itemSize, bytes, aligned, hasObjects);
    }

    // numpy's dtype.__reduce__ (numpy/core/src/multiarray/descriptor.c): numpy.dtype called with (kind + size, False, True),
    // then BUILD with (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]); elsize is set for
    // flexible types (S, U, V: structured and subarray dtypes) and is -1 otherwise, where the size is the code's digits.
    // flags bit 0 is NPY_ITEM_REFCOUNT: the dtype holds Python objects.
    private static (long ItemSize, bool HasObjects)? DType(object? value, List<PickleGlobalFinding> findings)
    {
        if (value is not PickleGlobalWalker.CallResult call) return null;
        var f = findings[call.Index];
        if (f.Name != "dtype" || !(f.Module == "numpy" || f.Module.StartsWith("numpy.", StringComparison.Ordinal))) return null;
        if (call.Args is not object?[] { Length: > 0 } args || args[0] is not string code || code.Length == 0) return null;
        long elsize = -1;
        bool? objects = null;
        if (call.State is object?[] { Length: >= 8 } s)
        {
            if (s[5] is long e) elsize = e;
            if (s[7] is long flags) objects = (flags & 1) != 0;
        }
        objects ??= code[0] == 'O';
        if (elsize > 0) return (elsize, objects.Value);
        return long.TryParse(code.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long size)
            ? (size, objects.Value) : null;
    }
}

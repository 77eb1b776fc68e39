using WeightScope.Tensors;

namespace WeightScope.Formats.NumPy;

/// <summary>Returns the first <c>count</c> bytes of an npy stream (a mapped file, a stored member, an inflated prefix).</summary>
internal delegate ReadOnlySpan<byte> NpyHeadReader(int count);

/// <summary>
/// A validated npy header (numpy/lib/format.py <c>_read_array_header</c>): the dict
/// <c>{'descr': '&lt;f4', 'fortran_order': False, 'shape': (3, 4), }</c> with exactly these three keys, plus where the
/// data starts and how many bytes it takes. Offsets are relative to the start of the npy stream.
/// </summary>
internal sealed record NpyHeader(NpyPrelude Prelude, NpyElementType Element, bool FortranOrder, Shape Shape, long DataLength)
{
    private const string DescrKey = "descr", FortranOrderKey = "fortran_order", ShapeKey = "shape";

    /// <summary>npy format version: <c>1.0</c>, <c>2.0</c> or <c>3.0</c>.</summary>
    public string Version => Prelude.Version;

    /// <summary>Offset of the array data from the start of the stream.</summary>
    public long DataOffset => Prelude.DataOffset;

    /// <summary>
    /// Reads and validates the prelude and header of an npy stream of <paramref name="available"/> bytes, and checks that
    /// the array data (elements × item size, after the header) fits in it. Bytes after the data are ignored, as numpy does.
    /// </summary>
    /// <exception cref="InvalidModelContentException">The bytes break the npy format.</exception>
    /// <exception cref="UnsupportedModelFeatureException">The array is valid but of a dtype WeightScope does not read.</exception>
    public static NpyHeader Read(NpyHeadReader head, long available, NpySource source, ReaderLimits limits)
    {
        var prelude = NpyPrelude.Read(head((int)Math.Min(NpyPrelude.MaxSize, available)), available, source, limits);
        var text = head(checked((int)prelude.DataOffset))[prelude.Size..];
        var items = PyLiteralParser.ParseDict(text, prelude.Size, source, prelude.IsUtf8, prelude.AllowsLongSuffix, limits.MaxNestingDepth);

        // Python keeps the last of duplicate keys; numpy then requires exactly the three keys.
        var dict = new Dictionary<string, PyDictItem>(StringComparer.Ordinal);
        foreach (var item in items) dict[item.Key] = item;
        foreach (var key in dict.Keys)
            if (key is not (DescrKey or FortranOrderKey or ShapeKey))
                throw NpyErrors.Header(source, $"unexpected key '{key}' (numpy requires exactly 'descr', 'fortran_order' and 'shape')", dict[key].Offset);
        var descr = Required(dict, DescrKey, source, prelude);
        var fortran = Required(dict, FortranOrderKey, source, prelude);
        var shapeItem = Required(dict, ShapeKey, source, prelude);

        // numpy checks in this order: shape, fortran_order, descr.
        var shape = ReadShape(shapeItem, source);
        if (fortran.Value is not bool fortranOrder)
            throw NpyErrors.Header(source, $"fortran_order must be True or False, found {PyLiteralParser.Repr(fortran.Value)}", fortran.Offset);
        var element = NpyDescr.Parse(descr.Value, descr.Offset, source);

        long dataLength;
        try { dataLength = checked(shape.ElementCount * element.DType.ItemSize()); }
        catch (OverflowException) { throw ShapeOverflow(shapeItem, source); }
        var header = new NpyHeader(prelude, element, fortranOrder, shape, dataLength);
        if (dataLength > available - header.DataOffset)
            throw NpyErrors.DataTooShort(source, $"{element.DType.Name()}{shape}", dataLength, header.DataOffset, available);
        return header;
    }

    private static PyDictItem Required(Dictionary<string, PyDictItem> dict, string key, NpySource source, NpyPrelude prelude) =>
        dict.TryGetValue(key, out var item) ? item
            : throw NpyErrors.Header(source, $"the header dict has no '{key}' key (numpy requires 'descr', 'fortran_order' and 'shape')", prelude.Size);

    private static Shape ReadShape(PyDictItem item, NpySource source)
    {
        if (item.Value is not object?[] dims || dims.Any(d => d is not long))
            throw NpyErrors.Header(source, $"shape must be a tuple of integers, found {PyLiteralParser.Repr(item.Value)}", item.Offset);
        var values = dims.Select(d => (long)d!).ToArray();
        if (values.Any(d => d < 0))
            throw NpyErrors.Header(source, $"shape {PyLiteralParser.Repr(item.Value)} has a negative dimension", item.Offset);
        try
        {
            var shape = new Shape(values);
            _ = shape.ContiguousStrides(); // strides treat empty dimensions as 1, so they can overflow where the count does not
            return shape;
        }
        catch (OverflowException) { throw ShapeOverflow(item, source); }
    }

    private static InvalidModelContentException ShapeOverflow(PyDictItem shape, NpySource source) =>
        NpyErrors.Header(source, $"shape {PyLiteralParser.Repr(shape.Value)} has more bytes than a 64-bit size can count", shape.Offset);
}

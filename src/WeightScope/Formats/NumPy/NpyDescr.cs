using WeightScope.Tensors;

namespace WeightScope.Formats.NumPy;

/// <summary>An element type from the header's <c>descr</c>: the <see cref="Tensors.DType"/> and the stored byte order.</summary>
internal readonly record struct NpyElementType(DType DType, bool IsBigEndian);

/// <summary>
/// Maps the header's <c>descr</c> (numpy's <c>dtype.str</c>, e.g. <c>'&lt;f4'</c>, <c>'|b1'</c>, <c>'&gt;c16'</c>) to a
/// <see cref="DType"/>, as <c>numpy.dtype(descr)</c> would read it. Byte order: <c>&lt;</c> little, <c>&gt;</c> big,
/// <c>|</c> not applicable, <c>=</c> or none native (little-endian on every platform .NET runs WeightScope on).
/// </summary>
internal static class NpyDescr
{
    private const char Little = '<', Big = '>', NotApplicable = '|', Native = '=';

    // The dtypes WeightScope reads, by numpy name (numpy.dtype('float32') also works, though numpy never writes it).
    private static readonly DType[] Named =
    [
        DType.Bool, DType.Int8, DType.Int16, DType.Int32, DType.Int64, DType.UInt8, DType.UInt16, DType.UInt32, DType.UInt64,
        DType.Float16, DType.Float32, DType.Float64, DType.Complex64, DType.Complex128,
    ];

    /// <summary>Reads a descr value; throws for descrs numpy rejects and for dtypes WeightScope does not read.</summary>
    public static NpyElementType Parse(object? descr, long offset, NpySource source) => descr switch
    {
        string s => ParseTypeString(s, offset, source),
        List<object?> fields => throw NpyErrors.Unsupported(source,
            $"structured arrays (descr is a list of fields {FieldNames(fields)}; WeightScope reads plain numeric arrays only)", offset),
        object?[] => throw NpyErrors.Unsupported(source,
            $"subarray dtypes (descr {PyLiteralParser.Repr(descr)}; WeightScope reads plain numeric arrays only)", offset),
        _ => throw NpyErrors.Header(source, $"descr must be a type string such as '<f4' or a list of fields, found {PyLiteralParser.Repr(descr)}", offset),
    };

    private static NpyElementType ParseTypeString(string descr, long offset, NpySource source)
    {
        foreach (var named in Named)
            if (named.Name() == descr) return new(named, false);

        string s = descr;
        char order = s.Length > 0 && s[0] is Little or Big or NotApplicable or Native ? s[0] : Native;
        if (s.Length > 0 && s[0] == order) s = s[1..];
        bool big = order == Big;
        if (s.Length == 0) throw NotAType(descr, offset, source);

        char kind = s[0];
        string digits = s[1..];
        // Without a size, a letter is a numpy type character ('f' = float32, 'b' = int8, '?' = bool…).
        if (digits.Length == 0) return new(TypeCharacter(kind, descr, offset, source), big);
        // datetime64/timedelta64 carry a unit: '<M8[ns]'.
        if (kind is 'M' or 'm') throw Unsupported(descr, "datetime64/timedelta64 arrays", offset, source);
        if (!int.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int size))
            throw NotAType(descr, offset, source);

        DType? t = (kind, size) switch
        {
            ('b', 1) => DType.Bool,
            ('i', 1) => DType.Int8,
            ('i', 2) => DType.Int16,
            ('i', 4) => DType.Int32,
            ('i', 8) => DType.Int64,
            ('u', 1) => DType.UInt8,
            ('u', 2) => DType.UInt16,
            ('u', 4) => DType.UInt32,
            ('u', 8) => DType.UInt64,
            ('f', 2) => DType.Float16,
            ('f', 4) => DType.Float32,
            ('f', 8) => DType.Float64,
            ('c', 8) => DType.Complex64,
            ('c', 16) => DType.Complex128,
            _ => null,
        };
        if (t is DType found) return new(found, big);
        throw (kind, size) switch
        {
            ('f', 12 or 16) or ('c', 24 or 32) => Unsupported(descr, "long double (float96/float128, complex192/complex256) arrays", offset, source),
            ('O', _) => ObjectArray(descr, offset, source),
            ('S' or 'a' or 'U', _) => Unsupported(descr, "string arrays (bytes 'S' and unicode 'U' dtypes)", offset, source),
            ('V', _) => Unsupported(descr, "void (raw bytes) arrays", offset, source),
            _ => NotAType(descr, offset, source),
        };
    }

    // numpy's single-character type codes (numpy.sctypeDict); 'l'/'L' are C long, 64 bits on the LP64 platforms numpy is read on here.
    private static DType TypeCharacter(char c, string descr, long offset, NpySource source) => c switch
    {
        '?' => DType.Bool,
        'b' => DType.Int8,
        'B' => DType.UInt8,
        'h' => DType.Int16,
        'H' => DType.UInt16,
        'i' => DType.Int32,
        'I' => DType.UInt32,
        'l' or 'q' => DType.Int64,
        'L' or 'Q' => DType.UInt64,
        'e' => DType.Float16,
        'f' => DType.Float32,
        'd' => DType.Float64,
        'F' => DType.Complex64,
        'D' => DType.Complex128,
        'g' or 'G' => throw Unsupported(descr, "long double (float128, complex256) arrays", offset, source),
        'O' => throw ObjectArray(descr, offset, source),
        'S' or 'a' or 'U' => throw Unsupported(descr, "string arrays (bytes 'S' and unicode 'U' dtypes)", offset, source),
        'V' => throw Unsupported(descr, "void (raw bytes) arrays", offset, source),
        'M' or 'm' => throw Unsupported(descr, "datetime64/timedelta64 arrays", offset, source),
        _ => throw NotAType(descr, offset, source),
    };

    private static UnsupportedModelFeatureException ObjectArray(string descr, long offset, NpySource source) =>
        NpyErrors.Unsupported(source, $"object arrays (descr '{descr}'): their data is a pickle of Python objects, and pickles are never "
                                      + "executed (numpy itself refuses them unless allow_pickle=True)", offset);

    private static UnsupportedModelFeatureException Unsupported(string descr, string what, long offset, NpySource source) =>
        NpyErrors.Unsupported(source, $"{what} (descr '{descr}'; WeightScope reads bool, integer, float and complex arrays)", offset);

    private static InvalidModelContentException NotAType(string descr, long offset, NpySource source) =>
        NpyErrors.Header(source, $"descr '{descr}' is not a numpy type string (expected e.g. '<f4', '|b1', '>i8', '<c16')", offset);

    private static string FieldNames(List<object?> fields)
    {
        var names = fields.Take(8).Select(f => f is object?[] { Length: > 0 } t ? PyLiteralParser.Repr(t[0]) : PyLiteralParser.Repr(f));
        return "[" + string.Join(", ", names) + (fields.Count > 8 ? ", …" : "") + "]";
    }
}

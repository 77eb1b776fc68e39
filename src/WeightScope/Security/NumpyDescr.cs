using WeightScope.Formats.NumPy;

namespace WeightScope.Security;

/// <summary>
/// Whether an npy header's <c>descr</c> makes numpy unpickle the data: numpy 1.24's <c>numpy.lib.format.descr_to_dtype</c>
/// turns it into a dtype, and <c>read_array</c> calls <c>pickle.load</c> when <c>dtype.hasobject</c>. descr_to_dtype
/// takes a string as <c>numpy.dtype(descr)</c>; a tuple as a sub-array of its first item; anything else is iterated as
/// fields, each unpacked as <c>(name, descr)</c> or <c>(name, descr, shape)</c> — so a two-character string or a dict key
/// is a field too (<c>'aO'</c> is a field named <c>a</c> of type <c>O</c>).
/// </summary>
internal static class NumpyDescr
{
    /// <summary>True when the dtype numpy builds from <paramref name="descr"/> (as the literal parser returns it) holds objects.</summary>
    public static bool HasObjects(object? descr) => descr switch
    {
        string s => TypeStringHasObjects(s),
        object?[] tuple => tuple.Length > 0 && HasObjects(tuple[0]),
        _ => Fields(descr).Any(field => Items(field) is { Count: 2 or 3 } items && HasObjects(items[1])),
    };

    // numpy.dtype(str): every spelling of the object type contains 'O' ('O', '|O8', 'object', 'object_', '(2,)O',
    // 'i4,O'), and no other type code or name does (checked against numpy 1.24 in the scan payload generator);
    // numpy refuses the rest, and then reads nothing.
    private static bool TypeStringHasObjects(string s) => s.Contains('O') || s.Contains("object", StringComparison.Ordinal);

    // What `for field in descr` yields: list items, dict keys, a string's characters.
    private static IEnumerable<object?> Fields(object? descr) => descr switch
    {
        List<object?> list => list,
        List<PyDictItem> dict => dict.Select(i => (object?)i.Key),
        _ => [],
    };

    // What unpacking a field yields.
    private static List<object?>? Items(object? field) => field switch
    {
        string s => [.. s.Select(c => (object?)c.ToString())],
        object?[] t => [.. t],
        List<object?> l => l,
        List<PyDictItem> d => [.. d.Select(i => (object?)i.Key)],
        _ => null,
    };
}

namespace WeightScope.Printing;

/// <summary>Python's <c>repr()</c> of a metadata or attribute value (see <see cref="ModelFile.Metadata"/> for the value conventions).</summary>
public static class PythonRepr
{
    /// <summary><c>repr(value)</c>: <c>1e-08</c>, <c>True</c>, <c>None</c>, <c>(3, 3)</c>, <c>'text'</c>.</summary>
    public static string Of(object? value) => PythonValue.Repr(value);

    /// <summary>
    /// <c>repr(value)</c> shortened to <paramref name="maxLength"/> characters (the last one "…" when cut), costing only
    /// what it keeps however deep or widely shared the value is.
    /// </summary>
    public static string Of(object? value, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var s = PythonValue.ReprPrefix(value, maxLength);
        return s.Length <= maxLength ? s : s[..(maxLength - 1)] + "…";
    }
}

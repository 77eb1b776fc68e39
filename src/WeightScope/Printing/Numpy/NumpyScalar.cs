namespace WeightScope.Printing.Numpy;

/// <summary>
/// <c>str()</c> of a numpy scalar, which is what <c>str()</c> of a 0-d array prints (<c>_array_str_implementation</c>
/// returns <c>str(a[()])</c>, ignoring the print options). Port of <c>numpy/core/src/multiarray/scalartypes.c.src</c>
/// (<c>floattype_str</c>, <c>halftype_str</c>, <c>cfloattype_str</c>), numpy 1.24: the shortest digits of the value's
/// own type, positional for 1e-4 ≤ |x| &lt; 1e16 (and 0, nan) with one trailing zero kept (<c>1.0</c>), scientific
/// otherwise without the point (<c>1e+16</c>, <c>1.5e-05</c>).
/// </summary>
internal static class NumpyScalar
{
    /// <summary><c>str(np.float16/32/64(x))</c>.</summary>
    public static string Float(double x, NumpyFloatKind kind) => Either(x, kind, TrimMode.LeaveOneZero, TrimMode.DptZeros, sign: false);

    /// <summary><c>str(np.complex64/128(complex(re, im)))</c>: <c>(1.5-2j)</c>, <c>2j</c>, <c>(nan+infj)</c>, as Python's complex repr.</summary>
    public static string Complex(double re, double im, NumpyFloatKind kind)
    {
        // a real part of +0.0 is left out: 2j, -0j (but -0.0 is kept: (-0+1j))
        if (re == 0 && !double.IsNegative(re)) return Either(im, kind, TrimMode.DptZeros, TrimMode.DptZeros, sign: false) + "j";
        string r = double.IsFinite(re) ? Either(re, kind, TrimMode.DptZeros, TrimMode.DptZeros, sign: false)
            : double.IsNaN(re) ? "nan" : re > 0 ? "inf" : "-inf";
        string i = double.IsFinite(im) ? Either(im, kind, TrimMode.DptZeros, TrimMode.DptZeros, sign: true)
            : double.IsNaN(im) ? "+nan" : im > 0 ? "+inf" : "-inf";
        return "(" + r + i + "j)";
    }

    // @name@type_@kind@_either
    private static string Either(double x, NumpyFloatKind kind, TrimMode trimPositional, TrimMode trimScientific, bool sign)
    {
        if (double.IsNaN(x)) return "nan"; // Dragon4's PrintInfNan never signs a nan
        if (double.IsInfinity(x)) return x < 0 ? "-inf" : sign ? "+inf" : "inf";
        double a = Math.Abs(x);
        bool positional = x == 0 || (a < 1e16 && a >= 1e-4);
        var o = new Dragon4.Options(DigitMode.Unique, CutoffMode.TotalLength, -1, -1, sign,
            positional ? trimPositional : trimScientific, -1, -1, -1);
        return positional ? Dragon4.Positional(x, kind, o) : Dragon4.Scientific(x, kind, o);
    }
}

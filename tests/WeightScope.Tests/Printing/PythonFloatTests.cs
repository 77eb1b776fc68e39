using Xunit;
using WeightScope.Printing;

namespace WeightScope.Tests.Printing;

/// <summary>PythonFloat against CPython's own '{:.Nf}', '{:.Ne}' and repr() of the same doubles (float_formats.json).</summary>
public class PythonFloatTests
{
    public static TheoryData<string> Cases => PrintingFixtures.FloatCaseIds();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Formats_like_python(string bits)
    {
        var (value, expected) = PrintingFixtures.FloatCase(bits);
        foreach (var (format, text) in expected)
        {
            string actual = format switch
            {
                "repr" or "str" => PythonFloat.Repr(value),
                _ when format[0] == 'f' => PythonFloat.Fixed(value, int.Parse(format[1..])),
                _ when format[0] == 'e' => PythonFloat.Exponent(value, int.Parse(format[1..])),
                _ => throw new InvalidDataException(format),
            };
            Assert.True(text == actual, $"{format} of {value:R} (bits {bits}): python '{text}', ours '{actual}'");
        }
    }

    [Fact]
    public void Rounds_exact_binary_ties_to_even_where_dotnet_rounds_away()
    {
        // 0.125 is exactly representable: Python's '{:.2f}' gives 0.12; .NET's "F2" gives 0.13.
        Assert.Equal("0.12", PythonFloat.Fixed(0.125, 2));
        Assert.Equal("2", PythonFloat.Fixed(2.5, 0));
        Assert.Equal("1.2e-01", PythonFloat.Exponent(0.125, 1));
    }
}

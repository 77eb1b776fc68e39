using System.Diagnostics;
using WeightScope.Analysis;
using WeightScope.Plotting;
using Xunit;

namespace WeightScope.Tests.Plotting;

/// <summary>
/// PNGs we write, decoded by independent decoders: Debian's python3-pil (every pixel compared) and pngcheck (chunk
/// CRCs, zlib stream, filter types). Both are installed by .ci/run; the tests skip with a reason when they are absent.
/// </summary>
public sealed class PngWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ws-png-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    [Theory]
    [InlineData("123456789", 0xCBF43926u)] // the CRC-32 check value (ISO 3309 / zlib crc32)
    [InlineData("", 0x00000000u)]
    [InlineData("IEND", 0xAE426082u)] // every PNG ends with this CRC: IEND has no data
    [InlineData("The quick brown fox jumps over the lazy dog", 0x414FA339u)]
    public void Crc32_matches_known_check_values(string text, uint expected) =>
        Assert.Equal(expected, Crc32.Compute(System.Text.Encoding.ASCII.GetBytes(text)));

    // Flat areas (None/Up), horizontal gradients (Sub), vertical gradients (Up), a diagonal line and blended text.
    private static Raster Crafted()
    {
        var r = new Raster(37, 23, Rgb.White);
        r.FillRect(3, 4, 10, 5, new Rgb(200, 30, 40));
        for (int x = 0; x < 37; x++) r.Blend(x, 12, new Rgb((byte)(x * 7), (byte)(255 - x * 3), 90));
        for (int y = 0; y < 23; y++) r.Blend(30, y, new Rgb(10, (byte)(y * 11), 250));
        r.Line(0, 22, 36, 14, Rgb.Black);
        r.FillRect(20, 2, 8, 8, new Rgb(0, 0, 255), 0.5);
        r.Text(1, 13, "Ab1", BitmapFonts.Regular, new Rgb(30, 30, 30));
        return r;
    }

    [PilFact]
    public void Pil_decodes_every_pixel_we_drew()
    {
        var raster = Crafted();
        var path = Path.Combine(_dir, "crafted.png");
        PngWriter.Write(raster, path);
        AssertPilSees(raster, path);
        // Spot checks against what was drawn, independent of our own raster: the rectangle and the half-blue blend.
        Assert.Equal(new Rgb(200, 30, 40), raster[5, 6]);
        Assert.Equal(new Rgb(128, 128, 255), raster[24, 3]);
    }

    [PilFact]
    public void Pil_decodes_a_histogram_figure()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("numpy", "random_64x64.npy"));
        var fig = Plot.Histogram([Histogram.Compute(m.Tensors.Single(), 50)]);
        var path = Path.Combine(_dir, "hist.png");
        fig.Save(path);
        AssertPilSees(fig.ToRaster(), path);
    }

    [PngcheckFact]
    public void Pngcheck_accepts_our_files()
    {
        var path = Path.Combine(_dir, "crafted.png");
        PngWriter.Write(Crafted(), path);
        var (code, output) = Tools.Run("pngcheck", "-v", path);
        Assert.True(code == 0, output);
        Assert.Contains("37 x 23 image, 24-bit RGB, non-interlaced", output);
        Assert.Contains("No errors detected", output);
    }

    [Fact]
    public void The_file_has_signature_IHDR_IDAT_IEND()
    {
        using var ms = new MemoryStream();
        PngWriter.Write(new Raster(3, 2, Rgb.Black), ms);
        var b = ms.ToArray();
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, b[..8]);
        Assert.Equal("IHDR"u8.ToArray(), b[12..16]);
        Assert.Equal(new byte[] { 0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0 }, b[16..29]); // width 3, height 2, depth 8, RGB
        Assert.Equal("IDAT"u8.ToArray(), b[37..41]);
        Assert.Equal(new byte[] { 0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82 }, b[^12..]);
    }

    private static void AssertPilSees(Raster raster, string path)
    {
        var (code, output) = Tools.Run("/usr/bin/python3", "-c",
            "import sys; from PIL import Image; im = Image.open(sys.argv[1]); im.load(); print(im.format, im.mode, im.size[0], im.size[1]); print(im.tobytes().hex())",
            path);
        Assert.True(code == 0, output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"PNG RGB {raster.Width} {raster.Height}", lines[0]);
        Assert.Equal(Convert.ToHexStringLower(raster.Pixels), lines[1].Trim());
    }
}

/// <summary>Runs an external tool and tells whether one is available.</summary>
internal static class Tools
{
    public static (int Code, string Output) Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit(60_000);
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public static bool Works(string exe, params string[] args)
    {
        try { return Run(exe, args).Code == 0; }
        catch (System.ComponentModel.Win32Exception) { return false; }
    }

    public static readonly Lazy<bool> Pil = new(() => File.Exists("/usr/bin/python3") && Works("/usr/bin/python3", "-c", "import PIL.Image"));
    public static readonly Lazy<bool> Pngcheck = new(() => Works("pngcheck", "-h") || Works("sh", "-c", "command -v pngcheck"));
}

/// <summary>Skipped, with the reason, when Debian's /usr/bin/python3 cannot import PIL (apt-get install python3-pil).</summary>
public sealed class PilFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when PIL is missing.</summary>
    public PilFactAttribute()
    {
        if (!Tools.Pil.Value) Skip = "/usr/bin/python3 with PIL not found (apt-get install python3-pil; .ci/run installs it)";
    }
}

/// <summary>Skipped, with the reason, when pngcheck is not installed.</summary>
public sealed class PngcheckFactAttribute : FactAttribute
{
    /// <summary>Sets <see cref="FactAttribute.Skip"/> when pngcheck is missing.</summary>
    public PngcheckFactAttribute()
    {
        if (!Tools.Pngcheck.Value) Skip = "pngcheck not found (apt-get install pngcheck; .ci/run installs it)";
    }
}

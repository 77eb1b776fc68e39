using System.Diagnostics;
using Xunit;

namespace WeightScope.Tests.Export;

/// <summary>Runs gcc and iverilog for the export tests (installed by <c>.ci/run</c>; tests skip without them).</summary>
public static class ExternalTools
{
    /// <summary>The full path of <paramref name="program"/> on PATH, or null.</summary>
    public static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);

    /// <summary>Runs a program in <paramref name="dir"/>; fails the test with its output on a non-zero exit.</summary>
    public static string Run(string dir, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} exited with {p.ExitCode}:\n{err.Result}\n{output}");
        return output;
    }
}

/// <summary>A fact that needs a program on PATH (gcc, iverilog): skipped with the reason when it is missing.</summary>
public sealed class ToolFactAttribute : FactAttribute
{
    /// <summary>Skips unless every program is found.</summary>
    public ToolFactAttribute(params string[] programs)
    {
        var missing = programs.Where(p => ExternalTools.Find(p) is null).ToList();
        if (missing.Count > 0) Skip = $"{string.Join(", ", missing)} not found on PATH (apt-get install {string.Join(' ', missing)})";
    }
}

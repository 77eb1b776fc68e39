using System.Diagnostics;
using Xunit;

namespace WeightScope.Tests.Interop;

/// <summary>
/// Runs Debian's <c>/usr/bin/python3</c> (the interpreter with python3-torch, python3-h5py and python3-numpy; the
/// <c>python3</c> first on PATH may be another) for interop tests: the real frameworks read what WeightScope wrote.
/// </summary>
public static class Python
{
    /// <summary>The interpreter the interop tests use.</summary>
    public const string Interpreter = "/usr/bin/python3";

    private static readonly Dictionary<string, bool> s_available = [];

    /// <summary>True when <see cref="Interpreter"/> exists and imports every module in <paramref name="modules"/>.</summary>
    public static bool Has(params string[] modules)
    {
        var key = string.Join(",", modules);
        lock (s_available)
        {
            if (s_available.TryGetValue(key, out var ok)) return ok;
            ok = File.Exists(Interpreter) && TryRun($"import {key}", [], out _, out _) == 0;
            s_available[key] = ok;
            return ok;
        }
    }

    /// <summary>Runs a script given as text with arguments; returns stdout, or fails the test with stderr on a non-zero exit.</summary>
    public static string Run(string script, params string[] args)
    {
        int code = TryRun(script, args, out var stdout, out var stderr);
        Assert.True(code == 0, $"python exited with {code}:\n{stderr}\n{stdout}");
        return stdout;
    }

    /// <summary>Runs a script given as text; returns the exit code.</summary>
    public static int TryRun(string script, IReadOnlyList<string> args, out string stdout, out string stderr)
    {
        var psi = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        stderr = err.Result;
        return p.ExitCode;
    }
}

/// <summary>
/// A fact that needs Debian's python3 with the named modules (<c>[PythonFact("torch")]</c>): skipped, with the reason,
/// when they are missing. <c>.ci/run</c> installs them, so in CI these tests run.
/// </summary>
public sealed class PythonFactAttribute : FactAttribute
{
    /// <summary>Skips unless every module imports.</summary>
    public PythonFactAttribute(params string[] modules)
    {
        if (!Python.Has(modules))
            Skip = $"{Python.Interpreter} with {string.Join(", ", modules)} not available (apt-get install python3-{string.Join(" python3-", modules)})";
    }
}

/// <summary>The theory form of <see cref="PythonFactAttribute"/>.</summary>
public sealed class PythonTheoryAttribute : TheoryAttribute
{
    /// <summary>Skips unless every module imports.</summary>
    public PythonTheoryAttribute(params string[] modules)
    {
        if (!Python.Has(modules))
            Skip = $"{Python.Interpreter} with {string.Join(", ", modules)} not available (apt-get install python3-{string.Join(" python3-", modules)})";
    }
}

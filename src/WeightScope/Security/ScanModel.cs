namespace WeightScope.Security;

/// <summary>How risky a global referenced by a pickle is.</summary>
public enum ScanVerdict
{
    /// <summary>Allowed by <c>torch.load(weights_only=True)</c> (or numpy's object-array reconstruction): builds data only.</summary>
    Safe,
    /// <summary>Unknown to the allow-list: a class or function Python would import and may call (a pickled module, say).</summary>
    Suspicious,
    /// <summary>Runs commands, code, imports, file or network access when called: the signature of a malicious pickle.</summary>
    Dangerous,
}

/// <summary>One use of a global: the opcode that called or built it (or <c>referenced</c>) and its offset.</summary>
/// <param name="Opcode">REDUCE, BUILD, NEWOBJ, NEWOBJ_EX, INST, OBJ (with " result" when what was called is the result of calling the global), or <c>referenced</c>.</param>
/// <param name="Offset">Byte offset of that opcode in <see cref="PickleGlobalFinding.Source"/>.</param>
public readonly record struct GlobalUse(string Opcode, long Offset);

/// <summary>A global (<c>module.name</c>) named by a pickle, where it was named, and everything the pickle did with it.</summary>
/// <param name="Module">Module as written in the pickle (Python 2 names such as <c>__builtin__</c> kept).</param>
/// <param name="Name">Attribute name.</param>
/// <param name="Opcode">The opcode that named it: GLOBAL, STACK_GLOBAL, INST or EXT1/2/4.</param>
/// <param name="Offset">Byte offset of that opcode.</param>
/// <param name="Source">Where the pickle is: the file itself (<c>""</c>), an archive member, or <c>"pickle #2"</c> of a legacy file.</param>
/// <param name="Verdict">Classification.</param>
/// <param name="Reason">Why (which rule matched).</param>
/// <param name="Uses">Calls and builds of it (and of what calling it returned), in pickle order.</param>
/// <param name="ImportedAs">What Python 3 imports for it when that differs from what is written (a Python 2 name renamed by
/// <c>fix_imports</c>, e.g. <c>__builtin__.getattr</c> → <c>builtins.getattr</c>); null otherwise.</param>
public sealed record PickleGlobalFinding(string Module, string Name, string Opcode, long Offset, string Source, ScanVerdict Verdict,
                                         string Reason, List<GlobalUse> Uses, string? ImportedAs = null)
{
    /// <summary><c>module.name</c> as written in the pickle.</summary>
    public string FullName => Module.Length == 0 ? Name : $"{Module}.{Name}";

    /// <summary><c>module.name</c> as Python 3 imports it.</summary>
    public string ResolvedName => ImportedAs ?? FullName;
}

/// <summary>Something in the file that is not a pickle global but is a code risk (a Keras Lambda layer).</summary>
/// <param name="Kind">Short kind, e.g. <c>keras-lambda</c>.</param>
/// <param name="Source">Member or file it is in.</param>
/// <param name="Detail">What it is (layer name, function).</param>
/// <param name="Verdict">Classification.</param>
public sealed record CodeFinding(string Kind, string Source, string Detail, ScanVerdict Verdict);

/// <summary>What <see cref="PickleScanner"/> found in a file.</summary>
public sealed class ScanReport
{
    /// <summary>The file scanned.</summary>
    public required string Path { get; init; }

    /// <summary>What the file was scanned as (pytorch-zip, pytorch-legacy, pickle, npy, zip).</summary>
    public required string Container { get; init; }

    /// <summary>Every pickle scanned: its source and byte length.</summary>
    public List<(string Source, long Bytes)> Pickles { get; } = [];

    /// <summary>Every global of every pickle, in file order.</summary>
    public List<PickleGlobalFinding> Globals { get; } = [];

    /// <summary>Non-pickle findings (Keras Lambda layers).</summary>
    public List<CodeFinding> Code { get; } = [];

    /// <summary>Pickles that could not be walked to their end (corrupt): source and message. What came before is still listed.</summary>
    public List<(string Source, string Message)> Errors { get; } = [];

    /// <summary>Things worth knowing that are not findings (bytes after the last pickle, members skipped).</summary>
    public List<string> Notes { get; } = [];

    /// <summary>The worst verdict found (Safe when nothing was found).</summary>
    public ScanVerdict Worst =>
        Globals.Select(g => g.Verdict).Concat(Code.Select(c => c.Verdict)).DefaultIfEmpty(ScanVerdict.Safe).Max();
}

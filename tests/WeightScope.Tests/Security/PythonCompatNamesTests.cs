using System.Text.Json.Nodes;
using WeightScope.Security;
using WeightScope.Tests.Interop;
using Xunit;

namespace WeightScope.Tests.Security;

/// <summary><see cref="PythonCompatNames"/> against the interpreter's own <c>_compat_pickle</c> tables.</summary>
public class PythonCompatNamesTests
{
    [PythonFact("json")]
    public void TablesAreCPythonsOwn()
    {
        var tables = JsonNode.Parse(Python.Run(
            "import json, _compat_pickle as c; print(json.dumps({'imports': c.IMPORT_MAPPING, " +
            "'names': [[k[0], k[1], v[0], v[1]] for k, v in c.NAME_MAPPING.items()]}))"))!;
        var imports = tables["imports"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());
        Assert.Equal(imports.OrderBy(kv => kv.Key), PythonCompatNames.Imports.OrderBy(kv => kv.Key));
        var names = tables["names"]!.AsArray().Select(n => ((n![0]!.GetValue<string>(), n[1]!.GetValue<string>()), (n[2]!.GetValue<string>(), n[3]!.GetValue<string>())))
                                   .ToDictionary(kv => kv.Item1, kv => kv.Item2);
        Assert.Equal(names.OrderBy(kv => kv.Key), PythonCompatNames.Names.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void OnlyProtocolsBelowThreeAreRenamed()
    {
        Assert.Equal(("io", "StringIO"), PythonCompatNames.Resolve("cStringIO", "StringIO", protocol: 2));
        Assert.Equal(("functools", "reduce"), PythonCompatNames.Resolve("__builtin__", "reduce", protocol: 0));
        Assert.Equal(("cStringIO", "StringIO"), PythonCompatNames.Resolve("cStringIO", "StringIO", protocol: 3));
    }
}

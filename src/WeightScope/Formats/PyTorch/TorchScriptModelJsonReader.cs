using System.Globalization;
using System.Text.Json;
using WeightScope.Formats.PyTorch.Pickle;
using WeightScope.IO;
using WeightScope.Modules;
using WeightScope.Tensors;

namespace WeightScope.Formats.PyTorch;

/// <summary>
/// Reads the TorchScript layout of PyTorch 1.0–1.2 (torch/csrc/jit/serialization/import_legacy.cpp): <c>model.json</c>
/// is the JSON form of caffe2/proto/torch.proto's ModelDef — a tensor table (dims, strides, offset, dataType, the record
/// <c>tensors/N</c> holding the bytes) and a module tree whose parameters point into the table; <c>attributes.pkl</c>
/// holds attribute values, with tensors as <c>torch.jit._pickle.build_tensor_from_id(index)</c>.
/// </summary>
/// <remarks>
/// Tensors: <c>state_dict()</c> first (per module its parameters, its buffers, then its submodules), then the tensor
/// attributes (role Attribute) module by module, then the table tensors nothing refers to, the code's constants
/// (<c>CONSTANTS.cN</c>), as <c>constants.N</c> (role Constant). Module types are what import_legacy.cpp's
/// <c>LEGACY_convertModule</c> names them: <c>__torch__</c> followed by the module names from the root (digits-only
/// names prefixed with <c>_</c>), so a module's type is its own name.
/// </remarks>
internal static class TorchScriptModelJsonReader
{
    private const string Format = TorchScriptFormat.FormatName;

    // caffe2.TensorProto.DataType names as JSON writes them.
    private static readonly Dictionary<string, DType> DataTypes = new(StringComparer.Ordinal)
    {
        ["FLOAT"] = DType.Float32,
        ["DOUBLE"] = DType.Float64,
        ["FLOAT16"] = DType.Float16,
        ["INT64"] = DType.Int64,
        ["INT32"] = DType.Int32,
        ["INT16"] = DType.Int16,
        ["INT8"] = DType.Int8,
        ["UINT8"] = DType.UInt8,
        ["BYTE"] = DType.UInt8,
        ["UINT16"] = DType.UInt16,
        ["BOOL"] = DType.Bool,
    };

    public static ModelFile Read(TorchArchive archive, MappedFile file, ReaderLimits limits)
    {
        try
        {
            return ReadModel(archive, file, limits);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json's accessors throw this for a value of the wrong kind (a string where a bool belongs,
            // text that is not UTF-8): the JSON does not have ModelDef's shape.
            throw new InvalidModelContentException(Format, $"model.json does not have the ModelDef layout: {e.Message}", null, $"{archive.Prefix}/model.json", e);
        }
    }

    private static ModelFile ReadModel(TorchArchive archive, MappedFile file, ReaderLimits limits)
    {
        var jsonEntry = archive.Record("model.json")!;
        using var doc = Parse(archive.Bytes(jsonEntry, limits), jsonEntry.Name, limits);
        var model = doc.RootElement;
        var table = ReadTensorTable(archive, model, jsonEntry.Name);

        var attributes = Array.Empty<object?>();
        if (archive.Record("attributes.pkl") is { } attrEntry)
        {
            var errors = new PickleErrors(Format, attrEntry.Name);
            var value = new Unpickler(TorchGlobals.CreateResolver(), limits, errors).Load(archive.Bytes(attrEntry, limits), 0, out _);
            attributes = value switch
            {
                PyTuple t => t.Items,
                PyList l => [.. l.Items],
                _ => throw errors.Invalid($"attributes.pkl should hold a tuple of attribute values but holds {PickleErrors.Describe(value)}", 0),
            };
        }

        var mapper = new TorchObjectMapper(Format, limits, EagerModuleSchema.Instance, bigEndian: false, jsonEntry.Name);
        var used = new HashSet<long>();
        if (!model.TryGetProperty("mainModule", out var main))
            throw Invalid("model.json has no mainModule", jsonEntry.Name);
        var tensorAttributes = new List<(string Path, long Id)>();
        var root = MapModule(main, "", "", ["__torch__"], null, table, attributes, mapper, used, tensorAttributes, jsonEntry.Name, 0, limits);
        foreach (var (path, id) in tensorAttributes) mapper.AddTensor(path, table[(int)id], TensorRole.Attribute);
        for (int i = 0; i < table.Count; i++)
            if (!used.Contains(i)) mapper.AddTensor($"constants.{i}", table[i], TensorRole.Constant);

        string version = string.Join(", ", new[] { archive.VersionText(), model.TryGetProperty("protoVersion", out var pv) ? $"model.json protoVersion {Scalar(pv)}" : "model.json" }.OfType<string>());
        string? producer = model.TryGetProperty("producerName", out var pn)
            ? $"{pn.GetString()} {(model.TryGetProperty("producerVersion", out var pver) ? pver.GetString() : "")}".Trim()
            : null;
        return new ModelFile(new ModelFormatInfo(Format, version, producer), new TensorCollection(mapper.Tensors), root, mapper.Metadata, [file]);
    }

    private static JsonDocument Parse(byte[] json, string entry, ReaderLimits limits)
    {
        IO.JsonDepth.Check(json, limits, Format, entry);
        try { return JsonDocument.Parse(json, IO.JsonDepth.Options(limits)); }
        catch (JsonException e) { throw new InvalidModelContentException(Format, $"model.json is not valid JSON: {e.Message}", e.BytePositionInLine, entry, e); }
    }

    private static List<TorchTensor> ReadTensorTable(TorchArchive archive, JsonElement model, string entry)
    {
        var table = new List<TorchTensor>();
        if (!model.TryGetProperty("tensors", out var tensors)) return table;
        var storages = new Dictionary<string, TorchStorageRef>(StringComparer.Ordinal);
        foreach (var t in tensors.EnumerateArray())
        {
            int index = table.Count;
            string typeName = t.TryGetProperty("dataType", out var dt) ? dt.GetString() ?? "" : "FLOAT";
            if (!DataTypes.TryGetValue(typeName, out var dtype))
                throw new UnsupportedModelFeatureException(Format, $"model.json tensor {index} of dataType {typeName}", null, entry);
            bool quantized = t.TryGetProperty("isQuantized", out var q) && q.GetBoolean();
            TorchQuantizerParams? quantizer = null;
            if (quantized)
            {
                dtype = dtype switch
                {
                    DType.UInt8 => DType.QUInt8,
                    DType.Int8 => DType.QInt8,
                    DType.Int32 => DType.QInt32,
                    _ => throw new UnsupportedModelFeatureException(Format, $"model.json quantized tensor {index} of dataType {typeName}", null, entry),
                };
                quantizer = new TorchQuantizerParams("per_tensor_affine", Number(t, "scale"), (long)Number(t, "zeroPoint"), null, null, -1);
            }
            if (!t.TryGetProperty("data", out var data) || !data.TryGetProperty("key", out var keyElement) || keyElement.GetString() is not { } key)
                throw Invalid($"model.json tensor {index} has no data.key", entry);
            var member = archive.Record(key) ?? throw Invalid($"model.json tensor {index} names record '{key}' which the archive lacks", entry);
            int item = dtype.ItemSize();
            if (!storages.TryGetValue(key, out var storage))
            {
                if (member.UncompressedSize % item != 0)
                    throw Invalid($"record '{key}' of {member.UncompressedSize} bytes is not a whole number of {item}-byte {dtype.Name()} elements", entry);
                storage = new TorchStorageRef(key, new TorchStorageType(dtype.Name(), dtype, item), t.TryGetProperty("device", out var dev) ? dev.GetString() ?? "cpu" : "cpu",
                    member.UncompressedSize / item, 0)
                { Bytes = archive.Zip.OpenStorage(member, member.Name) };
                storages[key] = storage;
            }
            var dims = Longs(t, "dims");
            var strides = t.TryGetProperty("strides", out _) ? Longs(t, "strides") : new Shape(dims).ContiguousStrides();
            if (dims.Length != strides.Length || dims.Any(d => d < 0) || strides.Any(s => s < 0))
                throw Invalid($"model.json tensor {index} has dims [{string.Join(", ", dims)}] and strides [{string.Join(", ", strides)}]", entry);
            table.Add(new TorchTensor
            {
                Storage = storage,
                DType = dtype,
                StorageOffset = (long)Number(t, "offset"),
                Size = dims,
                Stride = strides,
                RequiresGrad = t.TryGetProperty("requiresGrad", out var rg) && rg.GetBoolean(),
                Quantizer = quantizer,
                Offset = 0,
            });
        }
        return table;
    }

    private static ModuleNode MapModule(JsonElement def, string name, string path, List<string> classPath, ModuleNode? parent,
        List<TorchTensor> table, object?[] attributes, TorchObjectMapper mapper, HashSet<long> used,
        List<(string Path, long Id)> tensorAttributes, string entry, int depth, ReaderLimits limits)
    {
        if (depth > limits.MaxNestingDepth)
            throw new ReaderLimitException(Format, nameof(ReaderLimits.MaxNestingDepth), depth, limits.MaxNestingDepth, null, entry);
        string Join(string n) => path.Length == 0 ? n : $"{path}.{n}";
        // LEGACY_convertModule: the class is __torch__.<names from the root>, each name split at '.', digits-only atoms
        // prefixed with '_' (c10::QualifiedName::atoms()).
        string defName = def.TryGetProperty("name", out var dn) ? dn.GetString() ?? "" : "";
        classPath = [.. classPath, .. defName.Split('.', StringSplitOptions.RemoveEmptyEntries).Select(a => a.All(char.IsAsciiDigit) ? "_" + a : a)];
        var node = new ModuleNode(name, path, classPath[^1]) { QualifiedType = string.Join(".", classPath) };
        parent?.Children.Add(node);
        var parameters = def.TryGetProperty("parameters", out var ps) ? ps.EnumerateArray().ToList() : [];
        foreach (bool buffers in new[] { false, true })
            foreach (var p in parameters.Where(p => (p.TryGetProperty("isBuffer", out var b) && b.GetBoolean()) == buffers))
            {
                string pname = p.GetProperty("name").GetString() ?? "";
                long id = (long)Number(p, "tensorId");
                if (id < 0 || id >= table.Count) throw Invalid($"parameter '{Join(pname)}' names tensor {id} of a table of {table.Count}", entry);
                used.Add(id);
                var e = mapper.AddTensor(Join(pname), table[(int)id], buffers ? TensorRole.Buffer : TensorRole.Parameter);
                (buffers ? node.Buffers : node.Parameters)[pname] = e;
            }
        if (def.TryGetProperty("attributes", out var attrs))
            foreach (var a in attrs.EnumerateArray())
            {
                string aname = a.GetProperty("name").GetString() ?? "";
                long id = a.TryGetProperty("id", out _) ? (long)Number(a, "id") : -1;
                if (node.Parameters.ContainsKey(aname) || node.Buffers.ContainsKey(aname)) continue; // registered above (import_legacy skips these too)
                object? value = id >= 0 && id < attributes.Length ? attributes[id] : null;
                if (value is TorchTensorId tid)
                {
                    // A Tensor attribute: outside state_dict(), listed after it.
                    if (tid.Id < 0 || tid.Id >= table.Count) throw Invalid($"attribute '{Join(aname)}' names tensor {tid.Id} of a table of {table.Count}", entry);
                    used.Add(tid.Id);
                    tensorAttributes.Add((Join(aname), tid.Id));
                }
                else node.Attributes[aname] = mapper.Convert(value, 0);
            }
        if (def.TryGetProperty("submodules", out var subs))
            foreach (var s in subs.EnumerateArray())
            {
                string sname = s.GetProperty("name").GetString() ?? "";
                MapModule(s, sname, Join(sname), classPath, node, table, attributes, mapper, used, tensorAttributes, entry, depth + 1, limits);
            }
        return node;
    }

    // Protobuf's JSON mapping writes int64 as strings and omits zero values.
    private static double Number(JsonElement e, string property)
    {
        if (!e.TryGetProperty(property, out var v)) return 0;
        return v.ValueKind switch
        {
            JsonValueKind.Number => v.GetDouble(),
            JsonValueKind.String when double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            _ => throw new InvalidModelContentException(Format, $"model.json field '{property}' is not a number", null, "model.json"),
        };
    }

    private static long[] Longs(JsonElement e, string property)
    {
        if (!e.TryGetProperty(property, out var v) || v.ValueKind != JsonValueKind.Array) return [];
        return [.. v.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String
            ? long.Parse(x.GetString()!, CultureInfo.InvariantCulture)
            : x.GetInt64())];
    }

    private static string Scalar(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();

    private static InvalidModelContentException Invalid(string message, string entry) => new(Format, message, null, entry);
}

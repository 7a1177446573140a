using System.Text.Json;
using MixLens.Engine.Conversion;
using MixLens.Engine.Model;

namespace MixLens.Engine.Hub;

/// <summary>Which files of a model are needed.</summary>
public enum ModelFileSet
{
    /// <summary>Everything <see cref="EncoderModel.Load"/> reads: <c>config.json</c>, the weights
    /// (<c>model.safetensors</c>, or <c>model.safetensors.index.json</c> and its shards), the tokenizer files and the
    /// sentence-transformers pooling files.</summary>
    Model,
    /// <summary>The tokenizer files, and <c>config.json</c> when the repository has one (for the length limit).</summary>
    Tokenizer,
}

/// <summary>Where a model named by the user is.</summary>
/// <param name="Directory">a folder holding the model's files: the folder given, or a hub cache snapshot.</param>
/// <param name="Name">a short name for output: the folder's name, or the repository id.</param>
/// <param name="HubId">the repository, when the model came from the hub.</param>
public sealed record ModelLocation(string Directory, string Name, HubModelId? HubId);

/// <summary>
/// Turns what the user typed for a model into a folder: an existing directory is used as it is; otherwise a valid
/// repository id (<c>org/name[@revision]</c>) is looked up in the HuggingFace hub cache and what is missing there is
/// downloaded (unless offline). Resolution:
/// <list type="number">
/// <item>the cache alone: the revision's ref (or the commit itself) and, for each file needed, the snapshot's entry or
/// its <c>.no_exist</c> mark. When that settles every file, no request is made (a branch already cached is not
/// checked for newer commits: remove its <c>refs/</c> file, or name the commit, to move on);</item>
/// <item>otherwise, offline (<see cref="HubOptions.Offline"/>): the cache alone, files it lacks count as absent, and a
/// required one is an error naming it;</item>
/// <item>otherwise online: the hub names the revision's current commit and each missing file is downloaded into the
/// cache; when the hub cannot be reached, as huggingface_hub does, what the cache holds is used (step 2).</item>
/// </list>
/// </summary>
public static class ModelLocator
{
    /// <summary>Finds (and if need be downloads) a model's files.</summary>
    /// <param name="model">a model directory, or a hub repository id <c>org/name[@revision]</c>.</param>
    /// <param name="files">which files are needed.</param>
    /// <param name="options">hub settings (default: <see cref="HubOptions.FromEnvironment"/>, read only for a repository id).</param>
    /// <exception cref="ModelFormatException">neither an existing directory nor a repository id.</exception>
    /// <exception cref="HubException">the repository, revision or a required file cannot be had (one line saying why).</exception>
    public static ModelLocation Locate(string model, ModelFileSet files = ModelFileSet.Model, HubOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(model);
        if (Directory.Exists(model)) return new ModelLocation(model, Path.GetFileName(Path.TrimEndingDirectorySeparator(model)), null);
        if (!HubModelId.TryParse(model, out var id)) throw new ModelFormatException($"model directory '{model}' not found");
        try
        {
            return new ModelLocation(Resolve(id, files, options ?? HubOptions.FromEnvironment()), id.RepoId, id);
        }
        catch (HubException e) when (e.NotFoundWhere is { } where)
        {
            throw new HubException($"'{model}' is neither a model directory nor {where}", e) { NotFoundWhere = where };
        }
    }

    /// <summary>The snapshot folder of <paramref name="id"/> holding <paramref name="files"/> (see the class remarks).</summary>
    public static string Resolve(HubModelId id, ModelFileSet files, HubOptions options)
    {
        var cache = new HubCache(options.CacheDirectory, id);
        try
        {
            return Collect(new HubSnapshot(cache, id, HubSnapshot.Mode.CacheOnly, options), files);
        }
        catch (HubSnapshot.CacheMissException) { }
        if (options.Offline)
            return Collect(new HubSnapshot(cache, id, HubSnapshot.Mode.Offline, options,
                offlineReason: "HF_HUB_OFFLINE is set, so nothing is downloaded"), files);
        using var downloader = new HubDownloader(options);
        try
        {
            return Collect(new HubSnapshot(cache, id, HubSnapshot.Mode.Online, options, downloader), files);
        }
        catch (HubUnreachableException e)
        {
            return Collect(new HubSnapshot(cache, id, HubSnapshot.Mode.Offline, options,
                offlineReason: $"the hub could not be reached: {e.Message}"), files);
        }
    }

    /// <summary>Asks <paramref name="snapshot"/> for each file <paramref name="set"/> needs, in the order the loaders
    /// look for them (a file is asked for only when the ones before it leave it needed), and returns its folder.</summary>
    static string Collect(HubSnapshot snapshot, ModelFileSet set)
    {
        snapshot.Get("config.json", required: set == ModelFileSet.Model);
        if (set == ModelFileSet.Model) Weights(snapshot);
        Tokenizer(snapshot);
        if (set == ModelFileSet.Model) Pooling(snapshot);
        return snapshot.Folder;
    }

    /// <summary><c>model.safetensors</c>, else the index and every shard it names; a repository with PyTorch weights
    /// only is refused with the way to convert them.</summary>
    static void Weights(HubSnapshot snapshot)
    {
        if (snapshot.Get("model.safetensors", required: false) is not null) return;
        if (snapshot.Get(ShardIndex.SafeTensorsIndexName, required: false) is string indexPath)
        {
            ShardIndex index;
            try { index = ShardIndex.Read(indexPath); }
            catch (CheckpointException e) { throw new HubException($"{snapshot.Id}: {e.Message}", e); }
            foreach (var shard in index.Shards) snapshot.Get(shard, required: true);
            return;
        }
        string? pytorch = snapshot.Exists("pytorch_model.bin") ? "pytorch_model.bin"
            : snapshot.Exists(ShardIndex.PyTorchIndexName) ? ShardIndex.PyTorchIndexName : null;
        if (pytorch is null && snapshot.IsOffline) throw snapshot.NotCached("model.safetensors");
        throw new HubException(pytorch is null
            ? $"{snapshot.Id}: the repository has no model.safetensors (nor {ShardIndex.SafeTensorsIndexName})"
            : $"{snapshot.Id} has PyTorch weights only ({pytorch}, no model.safetensors): download it " +
              $"(`huggingface-cli download {snapshot.Id.RepoId} --local-dir DIR`), convert it with `mixlens convert DIR`, then use --model DIR");
    }

    /// <summary>The files <see cref="Tokenization.TokenizerFactory"/> reads: <c>tokenizer.json</c>, else
    /// <c>vocab.txt</c>, else <c>vocab.json</c> + <c>merges.txt</c>; and <c>tokenizer_config.json</c>,
    /// <c>special_tokens_map.json</c>. All optional here: the tokenizer loader says what it lacks.</summary>
    static void Tokenizer(HubSnapshot snapshot)
    {
        if (snapshot.Get("tokenizer.json", required: false) is null && snapshot.Get("vocab.txt", required: false) is null)
        {
            snapshot.Get("vocab.json", required: false);
            snapshot.Get("merges.txt", required: false);
        }
        snapshot.Get("tokenizer_config.json", required: false);
        snapshot.Get("special_tokens_map.json", required: false);
    }

    /// <summary><c>modules.json</c> and, when it lists a Pooling module, that module's <c>config.json</c>
    /// (<see cref="Heads.SentencePooling"/>).</summary>
    static void Pooling(HubSnapshot snapshot)
    {
        if (snapshot.Get("modules.json", required: false) is not string modules) return;
        string? folder = PoolingFolder(modules);
        if (folder is not null) snapshot.Get(folder.Length == 0 ? "config.json" : $"{folder.TrimEnd('/')}/config.json", required: true);
    }

    /// <summary>The <c>path</c> of the Pooling module listed in modules.json, or null (none, or not readable: the
    /// loader reports a malformed file).</summary>
    static string? PoolingFolder(string modulesPath)
    {
        try
        {
            using var modules = StrictJson.ParseFile(modulesPath);
            if (modules.RootElement.ValueKind != JsonValueKind.Array) return null;
            foreach (var module in modules.RootElement.EnumerateArray())
                if (module.ValueKind == JsonValueKind.Object
                    && module.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
                    && type.GetString()!.EndsWith(".Pooling", StringComparison.Ordinal))
                    return module.TryGetProperty("path", out var path) && path.ValueKind == JsonValueKind.String ? path.GetString() : "";
            return null;
        }
        catch (JsonException) { return null; }
    }
}

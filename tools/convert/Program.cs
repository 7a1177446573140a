// Placeholder for checkpoint conversion (pytorch_model.bin -> model.safetensors); see issue 7.
Console.Error.WriteLine("mixlens-convert: pickle checkpoint conversion is not implemented yet (tracked in the 'Beyond BERT' issue).");
return 2;

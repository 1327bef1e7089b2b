import torch


def get_human_readable_count(number: int) -> str:
    """1234567 -> '1.23 M'."""
    assert number >= 0
    labels = [" ", "K", "M", "B", "T"]
    num_digits = len(str(int(number))) if number > 0 else 1
    num_groups = min((num_digits - 1) // 3, len(labels) - 1)
    shift = -3 * num_groups
    number = number * (10**shift)
    if num_groups == 0:
        return f"{int(number):,d} {labels[num_groups]}".rstrip()
    return f"{number:.2f} {labels[num_groups]}"


def model_summary(model: torch.nn.Module) -> str:
    """The model's repr plus parameter counts, size and dtype (logged at the start of training)."""
    message = "Model structure:\n"
    message += str(model)
    tot_params = sum(p.numel() for p in model.parameters())
    num_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    percent_trainable = "{:.1f}".format(num_params * 100.0 / max(tot_params, 1))
    dtype = next(iter(model.parameters())).dtype if tot_params else torch.float32
    size_mb = sum(p.numel() * p.element_size() for p in model.parameters()) / 1024**2
    message += "\n\nModel summary:\n"
    message += f"    Class Name: {model.__class__.__name__}\n"
    message += f"    Total Number of model parameters: {tot_params:,d} ({get_human_readable_count(tot_params)})\n"
    readable = get_human_readable_count(num_params)
    message += f"    Number of trainable parameters: {num_params:,d} ({readable}, {percent_trainable}%)\n"
    message += f"    Size: {size_mb:.2f} MB\n"
    message += f"    Type: {dtype}"
    return message

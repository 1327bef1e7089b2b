"""yaml.safe_dump without anchors/aliases (`&id001`/`*id001`), so config.yaml stays readable by hand."""

import yaml


class NoAliasSafeDumper(yaml.SafeDumper):
    def ignore_aliases(self, data):
        return True


NoAliasSafeDumper.add_representer(tuple, lambda dumper, data: dumper.represent_list(list(data)))


def yaml_no_alias_safe_dump(data, stream=None, **kwargs):
    """Safe-dump `data` (tuples become lists) without aliases."""
    return yaml.dump(data, stream, allow_unicode=True, Dumper=NoAliasSafeDumper, **kwargs)

"""Trees stored with a materialised path, so "this node and everything below" is one indexed prefix scan."""

from django.db import models
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _


class TreeNode(models.Model):
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, editable=False, db_index=True, default="")  # "/1/4/9/"

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        old = self.path
        path = f"{self.parent.path if self.parent else '/'}{self.pk}/"
        if path == old:
            return
        if self.parent_id and self.pk in self.parent.ancestor_ids():
            raise ValueError("a node cannot be moved below itself")
        self.path = path
        nodes = type(self).objects
        nodes.filter(pk=self.pk).update(path=path)
        if old:  # a move: re-root the descendants' paths too
            nodes.filter(path__startswith=old).exclude(pk=self.pk).update(
                path=Concat(Value(path), Substr("path", len(old) + 1))
            )

    def subtree_ids(self) -> list[int]:
        return list(type(self).objects.filter(path__startswith=self.path).values_list("id", flat=True))

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]


def subtree_ids(model: type[TreeNode], node_id: int) -> list[int]:
    """Ids of node `node_id` and all its descendants; empty if the node does not exist."""
    path = model.objects.filter(pk=node_id).values_list("path", flat=True).first()
    if path is None:
        return []
    return list(model.objects.filter(path__startswith=path).values_list("id", flat=True))

"""Bibliography labels in author–year form, matching the text's citations.

The book cites with sphinxcontrib-bibtex's ``author_year`` reference style ("Bruno et al.
(2025)"); this pybtex style gives the bibliography the same labels ("Bruno et al.,
2025"), sorted by author and year, instead of numbers; two works with the same
authors and year get "2025a", "2025b" (Sphinx refuses duplicate labels).
"""

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle


def _surname(person):
    parts = person.rich_prelast_names + person.rich_last_names
    return " ".join(part.render_as("text") for part in parts)


class AuthorYearLabels(BaseLabelStyle):
    """"Surname, year", "Surname and Surname, year" or "Surname et al., year"."""

    def format_labels(self, sorted_entries):
        labels = [self._label(entry) for entry in sorted_entries]
        repeats = {label: labels.count(label) for label in labels}
        seen = {}
        for label in labels:  # equal labels get a, b, ... in the sorted order
            if repeats[label] > 1:
                seen[label] = seen.get(label, 0) + 1
                label += "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            yield label

    @staticmethod
    def _label(entry):
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [_surname(p) for p in people]
        if len(names) > 2:
            who = f"{names[0]} et al."
        else:
            who = " and ".join(names) or entry.fields.get("title", "")
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = SortingStyle


register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}

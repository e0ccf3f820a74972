"""Page source that is never a template: :func:`esc` for text from the data, and the
branca elements (:class:`Literal`, :class:`LiteralMacro`) that put finished source into
a page without compiling it as Jinja2."""

from __future__ import annotations

from branca.element import Element, Figure, MacroElement

from explorer.outputs import page_text


def esc(value) -> str:
    """Any value as inert page text: HTML-escaped (quotes too), braces as character
    references (see :func:`explorer.outputs.page_text`)."""
    return page_text(value)


class Literal(Element):
    """Page source that is used as it is: never compiled or rendered as a Jinja2 template
    (a plain branca ``Element(text)`` is). ``text`` must already be safe page source."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class LiteralMacro(MacroElement):
    """A macro element whose rendered header/html/script go into the page as
    :class:`Literal` text. branca's ``MacroElement`` wraps each macro's output in a new
    ``Element(output)``, which compiles the output, data included, as a second template:
    that is how ``{{ ... }}`` in a name ran. Our macros are rendered once, with data only as
    values (JSON from :func:`script_json`)."""

    def render(self, **kwargs):
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("this element can only be rendered inside a Figure")
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                target = getattr(figure, part)
                target.add_child(Literal(str(macro(self, kwargs))), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)

# TypeDialog's own messages (English). Form texts live next to each form: locales/<locale>/<form id>.ftl

## Validation errors: the field's label is shown before them.
error-required = is required
error-type = must be { $expected ->
    [number] a number
    [boolean] yes or no
    [list] a list
    [date] a date (YYYY-MM-DD)
   *[other] text
  }
error-min-length = must be at least { $limit } characters
error-max-length = must be at most { $limit } characters
error-pattern = does not match the expected format ({ $pattern })
error-min = must be at least { $limit }
error-max = must be at most { $limit }
error-step = { $whole ->
    [yes] must be a whole number
   *[no] { $counted ->
        [yes] must be { $base } plus a multiple of { $step }
       *[no] must be a multiple of { $step }
    }
  }
error-option = must be one of: { $options }
error-duplicate = lists the same option twice
error-min-items = needs at least { $limit } { $limit ->
    [one] item
   *[other] items
  }
error-max-items = allows at most { $limit } { $limit ->
    [one] item
   *[other] items
  }
error-date = must be a real date written YYYY-MM-DD
error-unknown-field = is not a field of this form
error-contract = { $message }
error-item = item { $item }: { $message }

## Prompts and screens
yes = yes
no = no
required-mark = (required)
default-hint = default: { $value }
select-hint = ↑/↓ to move, Enter to choose
multi-hint = ↑/↓ to move, Space to toggle, Enter to confirm
confirm-hint = y/n, ←/→ to change, Enter to confirm
editor-hint = Enter adds a line, Ctrl+D finishes
list-hint = separate the items with commas
nav-hint = Enter: next · Esc: back · Ctrl+C: cancel
review-title = Review your answers
review-drafts-title = Review the drafted answers: Enter opens one to edit it
review-more-above = ↑ { $count } more
review-more-below = ↓ { $count } more
review-hint = ↑/↓ to choose, Enter to edit a field or submit
review-submit = Submit
review-empty = (empty)
review-errors = { $count ->
    [one] One answer needs fixing
   *[other] { $count } answers need fixing
  }
section-progress = Section { $index } of { $count }
field-progress = question { $index } of { $count }
checking = Checking…

## Web page
web-submit = Submit
web-errors = { $count ->
    [one] One answer needs fixing.
   *[other] { $count } answers need fixing.
  }
web-done-title = Thank you
web-done = Your answers were received. You can close this tab.
web-closed = This form was already submitted.
web-required = required
web-open = Open { $url } in a browser to fill in the form
web-sections = Sections
web-list-hint = one item per line

## Command output
answers-invalid = { $count ->
    [one] One answer is invalid
   *[other] { $count } answers are invalid
  }
answers-ignored = ignored (its condition is false): { $fields }
cancelled = cancelled

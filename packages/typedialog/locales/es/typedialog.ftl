# Mensajes propios de TypeDialog (español).

## Errores de validación: la etiqueta del campo va delante.
error-required = es obligatorio
error-type = debe ser { $expected ->
    [number] un número
    [boolean] sí o no
    [list] una lista
    [date] una fecha (AAAA-MM-DD)
   *[other] texto
  }
error-min-length = debe tener al menos { $limit } caracteres
error-max-length = debe tener como máximo { $limit } caracteres
error-pattern = no tiene el formato esperado ({ $pattern })
error-min = debe ser como mínimo { $limit }
error-max = debe ser como máximo { $limit }
error-step = { $whole ->
    [yes] debe ser un número entero
   *[no] { $counted ->
        [yes] debe ser { $base } más un múltiplo de { $step }
       *[no] debe ser múltiplo de { $step }
    }
  }
error-option = debe ser una de: { $options }
error-duplicate = repite una opción
error-min-items = necesita al menos { $limit } { $limit ->
    [one] elemento
   *[other] elementos
  }
error-max-items = admite como máximo { $limit } { $limit ->
    [one] elemento
   *[other] elementos
  }
error-date = debe ser una fecha real con formato AAAA-MM-DD
error-unknown-field = no es un campo de este formulario
error-contract = { $message }
error-item = elemento { $item }: { $message }

## Preguntas y pantallas
yes = sí
no = no
required-mark = (obligatorio)
default-hint = por defecto: { $value }
select-hint = ↑/↓ para moverse, Intro para elegir
multi-hint = ↑/↓ para moverse, Espacio para marcar, Intro para confirmar
confirm-hint = s/n, ←/→ para cambiar, Intro para confirmar
editor-hint = Intro añade una línea, Ctrl+D termina
list-hint = separa los elementos con comas
nav-hint = Intro: siguiente · Esc: atrás · Ctrl+C: cancelar
review-title = Revisa tus respuestas
review-drafts-title = Revisa las respuestas propuestas: Intro abre una para editarla
review-more-above = ↑ { $count } más
review-more-below = ↓ { $count } más
review-hint = ↑/↓ para elegir, Intro para editar un campo o enviar
review-submit = Enviar
review-empty = (vacío)
review-errors = { $count ->
    [one] Hay que corregir una respuesta
   *[other] Hay que corregir { $count } respuestas
  }
section-progress = Sección { $index } de { $count }
field-progress = pregunta { $index } de { $count }
checking = Comprobando…

## Página web
web-submit = Enviar
web-errors = { $count ->
    [one] Hay que corregir una respuesta.
   *[other] Hay que corregir { $count } respuestas.
  }
web-done-title = Gracias
web-done = Hemos recibido tus respuestas. Ya puedes cerrar esta pestaña.
web-closed = Este formulario ya se envió.
web-required = obligatorio
web-open = Abre { $url } en un navegador para rellenar el formulario
web-sections = Secciones
web-list-hint = un elemento por línea

## Salida de los comandos
answers-invalid = { $count ->
    [one] Una respuesta no es válida
   *[other] { $count } respuestas no son válidas
  }
answers-ignored = ignorado (su condición es falsa): { $fields }
cancelled = cancelado

/* hangar: the GTK 3 manager's entry point (translations, then the application). */
#include <glib/gi18n.h>
#include <locale.h>

#include "hangar-application.h"

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    /* make run points HANGAR_LOCALEDIR at the build's translations (build/po). */
    const char *localedir = g_getenv("HANGAR_LOCALEDIR");
    bindtextdomain(GETTEXT_PACKAGE, localedir && *localedir ? localedir : LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    g_set_application_name("Hangar");

    g_autoptr(HangarApplication) app = hangar_application_new(G_APPLICATION_DEFAULT_FLAGS);
    return g_application_run(G_APPLICATION(app), argc, argv);
}

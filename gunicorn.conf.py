"""Read by gunicorn when started from the project folder (`flask serve`, the README's production
command, the tests). Settings here apply to every way the site is served."""

# gunicorn 27's control socket defaults to one path per user ($HOME/.gunicorn/gunicorn.ctl): a second
# server on the same machine (another instance, a test, a second "host") would take it over. Unused here.
control_socket_disable = True
